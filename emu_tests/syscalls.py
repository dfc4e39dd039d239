"""The Linux system calls a launcher makes, over an in-memory filesystem (qiling style).

``Kernel`` is the OS half of one emulated process. Each system call the launchers use
has a handler ``sys_<kernel name>`` whose parameters carry the man page's argument
names; every handler returns the raw kernel result: a value, or ``-errno`` (never a
bare -1). Each call is logged as one strace-like line (``Kernel.log``) and recorded as
a ``Call`` (what fault injection and the tests look at).

The syscall ABI of each arch is three fields (``loader.EmuArch``): the number register,
the argument registers and the result register. x86_64's ``syscall`` also clobbers
rcx (the return address) and r11 (rflags), as the kernel does; aarch64's ``svc #0``
clobbers nothing but x0.

Seams (qiling's enter/exit hook tables): ``Kernel.on_enter`` holds callables
``f(kernel, call) -> None | Fault`` run before a handler - a ``Fault`` replaces the
call's result (fault injection, test_faults.py); ``Kernel.on_exit`` callables
``f(kernel, call)`` run after it.

An unknown syscall number, unsupported flags, or a bad pointer (EFAULT) are
``violations``: the test fails, whatever the launcher does next.
"""
from __future__ import annotations

import errno as E
import inspect
import os
import stat as S
import struct
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

import unicorn as uc
from unicorn import x86_const as X86

from tinylaunch.abi import CONST
from .loader import MAX_ARG_STRLEN, PAGE, AddressSpace, EmuArch, page_up
from .memfs import GID, PATH_MAX, UID, FsError, MemFS, Node

AT_FDCWD = CONST["AT_FDCWD"]
AT_EMPTY_PATH = CONST["AT_EMPTY_PATH"]
AT_SYMLINK_NOFOLLOW = 0x100
AT_NO_AUTOMOUNT = 0x800
O_ACCMODE = 3
O_CLOEXEC = CONST["O_CLOEXEC"]
PROT_READ, PROT_WRITE, PROT_EXEC = CONST["PROT_READ"], CONST["PROT_WRITE"], 4
MAP_SHARED, MAP_PRIVATE, MAP_ANONYMOUS = 1, CONST["MAP_PRIVATE"], CONST["MAP_ANONYMOUS"]
MAP_FIXED, MAP_NORESERVE, MAP_POPULATE = 0x10, 0x4000, 0x8000
MADV_DONTNEED = CONST["MADV_DONTNEED"]
IOV_MAX = 1024
ARG_MAX = 8 * 1024 * 1024 // 4     # execve's limit with the default 8 MiB stack rlimit
FD_LIMIT = 1024


def errname(err: int) -> str:
    return E.errorcode.get(err, f"E{err}")


@dataclass
class Fault:
    """What an ``on_enter`` hook makes a call return instead of running it:
    ``errno`` (the call fails with it, nothing happens), or ``short`` (a read/write
    moves at most that many bytes)."""
    errno: Optional[int] = None
    short: Optional[int] = None

    def describe(self) -> str:
        return errname(self.errno) if self.errno is not None else f"short {self.short}"


@dataclass
class Call:
    index: int                   # 0-based position among the process's system calls
    name: str
    args: Tuple[int, ...]
    path: Optional[bytes] = None         # a pathname argument, as the launcher gave it
    fd_path: Optional[bytes] = None      # the path an fd argument was opened by
    result: Optional[int] = None
    fault: Optional[Fault] = None
    text: str = ""                        # the strace-like line

    def failed(self) -> bool:
        return self.result is not None and -4095 <= self.result < 0


@dataclass
class OpenFile:
    node: Node
    path: bytes
    flags: int
    offset: int = 0


@dataclass
class Stop:
    """Why the process ended: ``exec`` (file, argv, envp) or ``exit`` (status)."""
    kind: str
    status: Optional[int] = None
    file: Optional[bytes] = None
    argv: Optional[List[bytes]] = None
    envp: Optional[List[bytes]] = None


class GuestFault(Exception):
    """A pointer argument the kernel would answer with EFAULT."""


def _q(data: bytes, limit: int = 48) -> str:
    """A string the way strace prints it."""
    text = data[:limit].decode("latin-1").encode("unicode_escape").decode("ascii").replace('"', '\\"')
    return f'"{text}"' + ("..." if len(data) > limit else "")


def _flags(value: int, names: List[Tuple[str, int]], zero: str = "0") -> str:
    parts, rest = [], value
    for name, bit in names:
        if bit and value & bit == bit:
            parts.append(name)
            rest &= ~bit
    if rest:
        parts.append(hex(rest))
    return "|".join(parts) or zero


def execve_errno(fs: MemFS, path: bytes, argv: List[bytes], envp: List[bytes]) -> Optional[int]:
    """What execve(path, argv, envp) fails with here, or None when it succeeds. The
    file is checked first (the kernel opens it before copying the strings), then the
    sizes: one string over MAX_ARG_STRLEN, or strings and pointers over ARG_MAX, E2BIG.
    Shared by the emulated execve and the test's expectation, as the native runner
    asks the host kernel for both."""
    err = fs.exec_check(path)
    if err is not None:
        return err
    strings = list(argv) + list(envp)
    if any(len(s) + 1 > MAX_ARG_STRLEN for s in strings):
        return E.E2BIG
    if sum(len(s) + 1 for s in strings) + 8 * (len(strings) + 2) > ARG_MAX:
        return E.E2BIG
    return None


class Kernel:
    """System calls of one emulated process (see the module docstring)."""

    def __init__(self, emu: uc.Uc, arch: EmuArch, space: AddressSpace, fs: MemFS, *,
                 data_limit: Optional[int] = None, short_reads: bool = False,
                 short_writes: bool = False, keep_log: bool = True, tolerate: Tuple[str, ...] = ()):
        self.uc, self.arch, self.space, self.fs = emu, arch, space, fs
        self.abi = arch.abi
        self.data_limit = data_limit
        self.short_reads, self.short_writes = short_reads, short_writes
        self.keep_log = keep_log
        self.names: Dict[int, str] = {nr: name for name, nr in self.abi.syscalls.items()}
        self.handlers: Dict[int, Tuple[Callable, int]] = {}
        for nr, name in self.names.items():
            handler = getattr(self, "sys_" + name, None)
            if handler is None:
                raise NotImplementedError(f"{arch.name}: abi lists {name} but syscalls.py has no sys_{name}")
            self.handlers[nr] = (handler, len(inspect.signature(handler).parameters))
        self.on_enter: List[Callable[["Kernel", Call], Optional[Fault]]] = []
        self.on_exit: List[Callable[["Kernel", Call], None]] = []
        self.calls: List[Call] = []
        self.log: List[str] = []
        self.violations: List[str] = []
        self.tolerate = tolerate          # known findings (harness.KNOWN) reported, not failed
        self.tolerated: List[str] = []
        self.output: Dict[int, bytearray] = {1: bytearray(), 2: bytearray()}
        self.fds: Dict[int, OpenFile] = {}
        self.stop: Optional[Stop] = None
        self._fault: Optional[Fault] = None
        self._detail = ""

    # --- dispatch --------------------------------------------------------------------

    def attach(self) -> None:
        """Install the syscall hook for this arch."""
        if self.arch.name == "x86_64":
            self.uc.hook_add(uc.UC_HOOK_INSN, lambda emu, _: self.dispatch(), None, 1, 0,
                             X86.UC_X86_INS_SYSCALL)
        else:
            self.uc.hook_add(uc.UC_HOOK_INTR, self._intr)

    def _intr(self, emu: uc.Uc, intno: int, _user) -> None:
        pc = emu.reg_read(self.arch.pc)
        insn = bytes(emu.mem_read(pc - 4, 4)) if pc >= 4 else b""
        if intno != 2 or insn != b"\x01\x00\x00\xd4":       # EXCP_SWI from `svc #0`
            self.violate(f"unexpected exception {intno} at {pc - 4:#x} (instruction {insn.hex()})")
            return
        self.dispatch()

    def dispatch(self) -> None:
        emu, arch = self.uc, self.arch
        if self.stop is not None:
            self.violate("system call after the process ended")
            return
        nr = emu.reg_read(arch.syscall_nr)
        if arch.name == "aarch64" and emu.reg_read(arch.sp) % 16:
            self.violate(f"sp {emu.reg_read(arch.sp):#x} is not 16-byte aligned at a system call")
        if nr not in self.handlers:
            self.violate(f"unexpected system call number {nr} at {emu.reg_read(arch.pc):#x}")
            return
        handler, nargs = self.handlers[nr]
        args = tuple(emu.reg_read(r) for r in arch.syscall_args[:nargs])
        call = Call(index=len(self.calls), name=self.names[nr], args=args)
        self.calls.append(call)
        self._detail = ""
        self._describe(call)
        fault = None
        for hook in self.on_enter:
            fault = hook(self, call) or fault
        try:
            if fault is not None and fault.errno is not None:
                result = -fault.errno
            else:
                self._fault = fault
                try:
                    result = handler(*args)
                finally:
                    self._fault = None
        except GuestFault as gf:
            if "NULL string pointer" in str(gf) and "null_path" in self.tolerate:
                self.tolerated.append(f"{call.name}: NULL path")
                self.log.append(f"!!! {call.name}: NULL path (a known finding, tolerated)")
            else:
                self.violate(f"{call.name}: bad pointer ({gf})")
            result = -E.EFAULT
        call.fault = fault
        call.result = result
        self._finish(call)
        for hook in self.on_exit:
            hook(self, call)
        if self.stop is not None:
            emu.emu_stop()
            return
        emu.reg_write(arch.syscall_ret, result & 0xFFFF_FFFF_FFFF_FFFF)
        if arch.name == "x86_64":
            # syscall/sysret: rcx = the return address, r11 = rflags. In unicorn's hook rip
            # is still the syscall instruction (0f 05); it moves past it afterwards.
            emu.reg_write(X86.UC_X86_REG_RCX, emu.reg_read(X86.UC_X86_REG_RIP) + 2)
            emu.reg_write(X86.UC_X86_REG_R11, emu.reg_read(X86.UC_X86_REG_EFLAGS))

    def violate(self, what: str) -> None:
        self.violations.append(what)
        self.log.append(f"!!! {what}")
        self.uc.emu_stop()

    # --- guest memory ---------------------------------------------------------------------

    def read(self, addr: int, size: int) -> bytes:
        if size == 0:
            return b""
        try:
            return bytes(self.uc.mem_read(addr, size))
        except uc.UcError:
            raise GuestFault(f"{size} bytes at {addr:#x}: {self.space.describe(addr)}") from None

    def write(self, addr: int, data: bytes) -> None:
        region = self.space.region_at(addr)
        end_region = self.space.region_at(addr + max(len(data), 1) - 1)
        if region is None or end_region is None or not region.mapped or not (region.perms & uc.UC_PROT_WRITE) \
                or not (end_region.perms & uc.UC_PROT_WRITE):
            raise GuestFault(f"write of {len(data)} bytes at {addr:#x}: {self.space.describe(addr)}")
        self.uc.mem_write(addr, data)

    def cstring(self, addr: int, limit: int) -> Optional[bytes]:
        """The NUL-terminated string at ``addr``; None when it is ``limit`` bytes or
        longer without its NUL."""
        if addr == 0:
            raise GuestFault("NULL string pointer")
        out = bytearray()
        while len(out) < limit:
            chunk = min(PAGE - (addr % PAGE), limit - len(out))
            data = self.read(addr, chunk)
            nul = data.find(b"\0")
            if nul >= 0:
                out += data[:nul]
                return bytes(out)
            out += data
            addr += chunk
        return None

    def pointers(self, addr: int) -> List[int]:
        """A NULL-terminated array of pointers (argv, envp); NULL is an empty array."""
        out: List[int] = []
        while addr:
            word = struct.unpack("<Q", self.read(addr, 8))[0]
            if word == 0:
                return out
            out.append(word)
            addr += 8
        return out

    @staticmethod
    def i32(value: int) -> int:
        value &= 0xFFFF_FFFF
        return value - (1 << 32) if value & 0x8000_0000 else value

    @staticmethod
    def i64(value: int) -> int:
        return value - (1 << 64) if value & (1 << 63) else value

    # --- logging ------------------------------------------------------------------------------

    def _describe(self, call: Call) -> None:
        """Decode the arguments for the log line; remember a path argument."""
        a, name = call.args, call.name
        try:
            if name in ("openat", "newfstatat"):
                call.path = self.cstring(a[1], PATH_MAX)
            elif name == "execve":
                call.path = self.cstring(a[0], PATH_MAX)
            if name in ("read", "write", "writev", "close", "fstat"):
                f = self.fds.get(self.i32(a[0]))
                call.fd_path = f.path if f else None
            elif name == "mmap" and not a[3] & MAP_ANONYMOUS:
                f = self.fds.get(self.i32(a[4]))
                call.fd_path = f.path if f else None
        except GuestFault:
            pass

    def _args_text(self, call: Call) -> str:
        a, name, o = call.args, call.name, self.arch.o_flags
        dirfd = lambda v: "AT_FDCWD" if self.i32(v) == AT_FDCWD else str(self.i32(v))
        if name in ("openat", "newfstatat", "execve"):
            path = _q(call.path) if call.path is not None else hex(a[0] if name == "execve" else a[1])
        if name == "openat":
            names = [("O_CLOEXEC", O_CLOEXEC), ("O_DIRECTORY", o["O_DIRECTORY"]),
                     ("O_NOFOLLOW", o["O_NOFOLLOW"]), ("O_LARGEFILE", o["O_LARGEFILE"])]
            acc = ("O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE")[a[2] & O_ACCMODE]
            rest = _flags(a[2] & ~O_ACCMODE & 0xFFFFFFFF, names, "")
            return f"{dirfd(a[0])}, {path}, {acc}{'|' + rest if rest else ''}"
        if name == "newfstatat":
            flags = _flags(a[3] & 0xFFFFFFFF, [("AT_SYMLINK_NOFOLLOW", AT_SYMLINK_NOFOLLOW),
                                               ("AT_EMPTY_PATH", AT_EMPTY_PATH), ("AT_NO_AUTOMOUNT", AT_NO_AUTOMOUNT)])
            return f"{dirfd(a[0])}, {path}, {a[2]:#x}, {flags}"
        if name == "mmap":
            prot = _flags(a[2], [("PROT_READ", PROT_READ), ("PROT_WRITE", PROT_WRITE), ("PROT_EXEC", PROT_EXEC)], "PROT_NONE")
            flags = _flags(a[3], [("MAP_SHARED", MAP_SHARED), ("MAP_PRIVATE", MAP_PRIVATE), ("MAP_FIXED", MAP_FIXED),
                                  ("MAP_ANONYMOUS", MAP_ANONYMOUS), ("MAP_NORESERVE", MAP_NORESERVE),
                                  ("MAP_POPULATE", MAP_POPULATE)])
            return f"{'NULL' if a[0] == 0 else hex(a[0])}, {a[1]}, {prot}, {flags}, {self.i32(a[4])}, {self.i64(a[5])}"
        if name == "execve":
            return f"{path}, {a[1]:#x}, {a[2]:#x}"
        if name in ("writev", "write", "read"):
            return f"{self.i32(a[0])}, {a[1]:#x}, {a[2]}"
        if name in ("close", "exit_group"):
            return str(self.i32(a[0]))
        return ", ".join(hex(x) for x in a)

    def _finish(self, call: Call) -> None:
        if not self.keep_log:
            return
        r = call.result
        if call.name in ("exit_group",) or (call.name == "execve" and self.stop is not None):
            shown = "?"
        elif r is not None and -4095 <= r < 0:
            shown = f"-1 {errname(-r)} ({os.strerror(-r)})"
        elif call.name == "mmap":
            shown = hex(r)
        else:
            shown = str(r)
        if call.fault is not None:
            shown += " (INJECTED)" if call.fault.errno is not None else f" (INJECTED {call.fault.describe()})"
        call.text = f"{call.name}({self._detail or self._args_text(call)}) = {shown}"
        self.log.append(call.text)

    # --- files ------------------------------------------------------------------------------

    def _lookup(self, dirfd: int, path: bytes, follow: bool) -> Node:
        base = None
        if not path.startswith(b"/") and dirfd != AT_FDCWD:
            f = self.fds.get(dirfd)
            if f is None:
                raise FsError(E.EBADF)
            if not f.node.is_dir():
                raise FsError(E.ENOTDIR)
            base = f.node
        if len(path) >= PATH_MAX:
            raise FsError(E.ENAMETOOLONG)
        if not path:
            raise FsError(E.ENOENT)
        return self.fs.lookup(path, follow, base)

    def _stat_bytes(self, node: Node) -> bytes:
        size = node.size()
        blocks = page_up(size) // 512
        if self.arch.name == "x86_64":      # arch/x86/include/uapi/asm/stat.h
            data = struct.pack("<QQQIIIiQqqq6Q3q", 2049, node.ino, 1, node.mode, UID, GID, 0, 0,
                               size, 4096, blocks, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        else:                                # include/uapi/asm-generic/stat.h
            data = struct.pack("<QQIIIIQQqiiq6QII", 2049, node.ino, node.mode, 1, UID, GID, 0, 0,
                               size, 4096, 0, blocks, 0, 0, 0, 0, 0, 0, 0, 0)
        abi = self.abi
        assert len(data) == abi.stat_size
        assert struct.unpack_from("<I", data, abi.st_mode)[0] == node.mode
        assert struct.unpack_from("<q", data, abi.st_size)[0] == size
        return data

    def sys_openat(self, dirfd, pathname, flags, mode):
        dirfd, flags = self.i32(dirfd), flags & 0xFFFFFFFF
        o = self.arch.o_flags
        known = O_ACCMODE | O_CLOEXEC | o["O_DIRECTORY"] | o["O_NOFOLLOW"] | o["O_LARGEFILE"]
        if flags & ~known:
            self.violate(f"openat: flags {flags:#o} not implemented by the emulator")
            return -E.EINVAL
        if flags & O_ACCMODE != 0:
            self.violate(f"openat: a launcher opens files read-only, got flags {flags:#o}")
            return -E.EACCES
        path = self.cstring(pathname, PATH_MAX)
        if path is None:
            return -E.ENAMETOOLONG
        try:
            node = self._lookup(dirfd, path, not flags & o["O_NOFOLLOW"])
        except FsError as e:
            return -e.errno
        if node.kind == S.S_IFLNK:
            return -E.ELOOP
        if flags & o["O_DIRECTORY"] and not node.is_dir():
            return -E.ENOTDIR
        if not node.can(4):
            return -E.EACCES
        fd = 3
        while fd in self.fds:
            fd += 1
        if fd >= FD_LIMIT:
            return -E.EMFILE
        self.fds[fd] = OpenFile(node, path, flags)
        return fd

    def sys_newfstatat(self, dirfd, pathname, statbuf, flags):
        dirfd, flags = self.i32(dirfd), flags & 0xFFFFFFFF
        if flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT):
            self.violate(f"newfstatat: flags {flags:#x} not implemented by the emulator")
            return -E.EINVAL
        path = self.cstring(pathname, PATH_MAX)
        if path is None:
            return -E.ENAMETOOLONG
        if not path and flags & AT_EMPTY_PATH:
            if dirfd == AT_FDCWD:
                node = self.fs.cwd
            elif dirfd in self.fds:
                node = self.fds[dirfd].node
            else:
                return -E.EBADF
        else:
            try:
                node = self._lookup(dirfd, path, not flags & AT_SYMLINK_NOFOLLOW)
            except FsError as e:
                return -e.errno
        self.write(statbuf, self._stat_bytes(node))
        return 0

    def sys_fstat(self, fd, statbuf):
        f = self.fds.get(self.i32(fd))
        if f is None:
            return -E.EBADF
        self.write(statbuf, self._stat_bytes(f.node))
        return 0

    def sys_close(self, fd):
        return 0 if self.fds.pop(self.i32(fd), None) is not None else -E.EBADF

    def sys_read(self, fd, buf, count):
        f = self.fds.get(self.i32(fd))
        if f is None:
            return -E.EBADF
        if f.node.is_dir():
            return -E.EISDIR
        limit = count
        fault = self._fault
        if fault is not None and fault.short is not None:
            limit = min(limit, fault.short)
        if self.short_reads:
            limit = min(limit, 1)
        data = f.node.data[f.offset:f.offset + limit]
        self.write(buf, data)
        f.offset += len(data)
        return len(data)

    def _emit(self, fd: int, data: bytes) -> int:
        fd = self.i32(fd)
        if fd not in self.output:
            return -E.EBADF
        fault = self._fault
        if fault is not None and fault.short is not None:
            data = data[:fault.short]
        elif self.short_writes:
            data = data[:1]
        self.output[fd] += data
        return len(data)

    def sys_write(self, fd, buf, count):
        data = self.read(buf, count)
        self._detail = f"{self.i32(fd)}, {_q(data)}, {count}"
        return self._emit(fd, data)

    def sys_writev(self, fd, iov, iovcnt):
        if iovcnt > IOV_MAX:
            return -E.EINVAL
        parts = []
        for i in range(iovcnt):
            base, length = struct.unpack("<QQ", self.read(iov + 16 * i, 16))
            parts.append(self.read(base, length) if length else b"")
        data = b"".join(parts)
        self._detail = f"{self.i32(fd)}, [{', '.join(_q(p, 24) for p in parts)}], {iovcnt}"
        return self._emit(fd, data)

    # --- memory ------------------------------------------------------------------------------

    def sys_mmap(self, addr, length, prot, flags, fd, offset):
        fd, offset = self.i32(fd), self.i64(offset)
        known = MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE | MAP_POPULATE
        if flags & ~known or prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC):
            self.violate(f"mmap: flags {flags:#x} / prot {prot:#x} not implemented by the emulator")
            return -E.EINVAL
        if flags & MAP_FIXED:
            self.violate("mmap: a launcher has no business with MAP_FIXED")
            return -E.EINVAL
        if prot & PROT_EXEC:
            self.violate("mmap: PROT_EXEC - the launcher must run only its own code segment")
            return -E.EACCES
        page = self.space.page
        if length == 0 or offset % page or (flags & (MAP_SHARED | MAP_PRIVATE)) in (0, MAP_SHARED | MAP_PRIVATE):
            return -E.EINVAL
        size = page_up(length, page)
        if size < length or size > 1 << 46:
            return -E.ENOMEM
        perms = (uc.UC_PROT_READ if prot & PROT_READ else 0) | (uc.UC_PROT_WRITE if prot & PROT_WRITE else 0)
        counts = bool(prot & PROT_WRITE) and bool(flags & MAP_PRIVATE)      # RLIMIT_DATA
        if counts and self.data_limit is not None and self.space.anon_writable_bytes() + size > self.data_limit:
            return -E.ENOMEM
        if flags & MAP_ANONYMOUS:
            start = self.space.find_free(size)
            self.space.map(start, size, perms, f"mmap anon {prot:#x}", anon_writable=counts)
            return start
        f = self.fds.get(fd)
        if f is None:
            return -E.EBADF
        if f.node.kind != S.S_IFREG:
            return -E.ENODEV if f.node.is_dir() else -E.EACCES
        if flags & MAP_SHARED and prot & PROT_WRITE:
            return -E.EACCES                 # opened read-only
        data = f.node.data[offset:offset + size]
        mapped = min(size, page_up(max(len(f.node.data) - offset, 0), page))   # pages past EOF: SIGBUS
        start = self.space.find_free(size)
        self.space.map(start, size, perms, f"mmap {f.path.decode('latin-1')[-60:]}", data,
                       mapped_size=mapped, anon_writable=counts)
        return start

    def sys_munmap(self, addr, length):
        if addr % self.space.page or length == 0:
            return -E.EINVAL
        self.space.unmap(addr, addr + page_up(length, self.space.page))
        return 0

    def sys_madvise(self, addr, length, advice):
        if addr % self.space.page:
            return -E.EINVAL
        if advice == MADV_DONTNEED:
            end = addr + page_up(length, self.space.page)
            for r in self.space.regions:
                lo, hi = max(r.start, addr), min(r.end, end)
                if lo < hi and r.mapped and r.anon_writable:
                    self.uc.mem_write(lo, bytes(hi - lo))
        return 0

    # --- process ----------------------------------------------------------------------------

    def sys_getcwd(self, buf, size):
        cwd = self.fs.getcwd()
        if isinstance(cwd, int):
            return -cwd
        if len(cwd) + 1 > PAGE:
            return -E.ENAMETOOLONG
        if size < len(cwd) + 1:
            return -E.ERANGE
        self.write(buf, cwd + b"\0")
        self._detail = f"{_q(cwd)}, {size}"
        return len(cwd) + 1

    def sys_execve(self, pathname, argv, envp):
        path = self.cstring(pathname, PATH_MAX)
        if path is None:
            return -E.ENAMETOOLONG
        args = [self.cstring(p, MAX_ARG_STRLEN + 1) for p in self.pointers(argv)]
        env = [self.cstring(p, MAX_ARG_STRLEN + 1) for p in self.pointers(envp)]
        self._detail = (f"{_q(path)}, [{', '.join(_q(x or b'', 24) for x in args[:8])}"
                        f"{', ...' if len(args) > 8 else ''}], {envp:#x} /* {len(env)} vars */")
        if any(x is None for x in args + env):
            return -E.E2BIG
        err = execve_errno(self.fs, path, args, env)
        if err is not None:
            return -err
        self.stop = Stop("exec", file=path, argv=args, envp=env)
        return 0

    def sys_exit_group(self, status):
        self.stop = Stop("exit", status=status & 0xFF)
        return 0
