"""Load an emitted launcher into unicorn the way Linux's binfmt_elf does.

The emulator's view of each architecture (unicorn and capstone modes, the registers of
the syscall ABI, where the kernel puts things) is ``EMU_ARCHES``; syscall numbers,
errno values, struct stat offsets and ``p_align`` come from ``tinylaunch.abi``.

Address space of one emulated process (addresses are randomised per run, page aligned;
the figures are the x86_64 ones, aarch64 uses its own ELF_ET_DYN_BASE and stack top):

    0x7ffX_XXXX_X000  stack top ---------------------------------------------------
                      8 zero bytes (the kernel's end marker)
                      AT_EXECFN string            <- the path execve was given
                      envp strings                   envp[0] lowest
                      argv strings                   argv[0] lowest
                      (random gap, as arch_align_stack makes)
                      AT_PLATFORM string, AT_RANDOM's 16 bytes
                      auxv pairs .. AT_NULL       16-byte aligned block:
                      envp pointers, NULL
                      argv pointers, NULL
           sp ->      argc
                      (STACK_HEADROOM bytes mapped below sp: deeper is a fault)
    below             mmap area, allocated top down (syscalls.py)
    0x5555_XXXX_X000  the launcher: the whole file, one mapping, R+X only (its PT_LOAD)

The stack is RW (PT_GNU_STACK), never executable; the launcher's segment is never
writable; nothing else is mapped. ``argc == 0``, duplicate and ``=``-less environment
entries and an absent AT_EXECFN are all possible here (the kernel allows the first
three; the fourth is for testing R1).
"""
from __future__ import annotations

import random
import struct
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import capstone as cs
import unicorn as uc
from unicorn import arm64_const as A64
from unicorn import x86_const as X86

from tinylaunch.abi import ARCHES, CONST, Abi

PAGE = 0x1000                   # unicorn's and both kernels' usual page size
STACK_HEADROOM = 64 * 1024      # mapped below the initial sp; the launcher must need far less
MAX_ARG_STRLEN = 32 * PAGE      # the kernel's limit for one argv/envp string

# Auxiliary vector entry types (include/uapi/linux/auxvec.h) beyond those in abi.CONST.
AT_PHDR, AT_PHENT, AT_PHNUM, AT_BASE, AT_FLAGS, AT_ENTRY = 3, 4, 5, 7, 8, 9
AT_UID, AT_EUID, AT_GID, AT_EGID, AT_PLATFORM, AT_HWCAP, AT_CLKTCK = 11, 12, 13, 14, 15, 16, 17
AT_SECURE, AT_HWCAP2, AT_MINSIGSTKSZ = 23, 26, 51
AT_NULL, AT_PAGESZ, AT_RANDOM, AT_EXECFN = CONST["AT_NULL"], CONST["AT_PAGESZ"], CONST["AT_RANDOM"], CONST["AT_EXECFN"]
AT_NAMES = {AT_NULL: "AT_NULL", AT_PHDR: "AT_PHDR", AT_PHENT: "AT_PHENT", AT_PHNUM: "AT_PHNUM",
            AT_PAGESZ: "AT_PAGESZ", AT_BASE: "AT_BASE", AT_FLAGS: "AT_FLAGS", AT_ENTRY: "AT_ENTRY",
            AT_UID: "AT_UID", AT_EUID: "AT_EUID", AT_GID: "AT_GID", AT_EGID: "AT_EGID",
            AT_PLATFORM: "AT_PLATFORM", AT_HWCAP: "AT_HWCAP", AT_CLKTCK: "AT_CLKTCK",
            AT_SECURE: "AT_SECURE", AT_RANDOM: "AT_RANDOM", AT_HWCAP2: "AT_HWCAP2",
            AT_EXECFN: "AT_EXECFN", AT_MINSIGSTKSZ: "AT_MINSIGSTKSZ"}

# ELF constants (see tinylaunch/elf.py for their sources).
PT_LOAD, PT_INTERP, PT_DYNAMIC, PT_GNU_STACK = 1, 3, 2, 0x6474E551
PF_X, PF_W, PF_R = 1, 2, 4
ET_DYN = 3


@dataclass(frozen=True)
class EmuArch:
    """What the emulator needs to know about an arch, beside ``tinylaunch.abi``."""
    name: str
    uc_arch: int
    uc_mode: int
    cs_arch: int
    cs_mode: int
    pc: int                      # unicorn register ids
    sp: int
    syscall_nr: int              # the syscall ABI, qiling style: number, arguments, result
    syscall_args: Tuple[int, ...]
    syscall_ret: int
    elf_base: int                # ELF_ET_DYN_BASE: where the kernel loads a PIE (plus randomness)
    stack_top: int               # highest stack top (randomised below it)
    mmap_top: int                # the mmap area grows down from here
    platform: bytes              # AT_PLATFORM
    hwcap: int                   # AT_HWCAP (any plausible value)
    o_flags: Dict[str, int] = field(default_factory=dict)   # open(2) flags that differ per arch

    @property
    def abi(self) -> Abi:
        return ARCHES[self.name]


EMU_ARCHES: Dict[str, EmuArch] = {
    "x86_64": EmuArch(
        name="x86_64", uc_arch=uc.UC_ARCH_X86, uc_mode=uc.UC_MODE_64,
        cs_arch=cs.CS_ARCH_X86, cs_mode=cs.CS_MODE_64,
        pc=X86.UC_X86_REG_RIP, sp=X86.UC_X86_REG_RSP,
        syscall_nr=X86.UC_X86_REG_RAX,
        syscall_args=(X86.UC_X86_REG_RDI, X86.UC_X86_REG_RSI, X86.UC_X86_REG_RDX,
                      X86.UC_X86_REG_R10, X86.UC_X86_REG_R8, X86.UC_X86_REG_R9),
        syscall_ret=X86.UC_X86_REG_RAX,
        elf_base=0x5555_5555_4000 & ~0xFFFF, stack_top=0x7FFF_FFFF_F000, mmap_top=0x7FFF_F000_0000,
        platform=b"x86_64", hwcap=0x178BFBFF,
        o_flags={"O_DIRECTORY": 0o200000, "O_NOFOLLOW": 0o400000, "O_LARGEFILE": 0o100000},
    ),
    "aarch64": EmuArch(
        name="aarch64", uc_arch=uc.UC_ARCH_ARM64, uc_mode=uc.UC_MODE_ARM,
        cs_arch=cs.CS_ARCH_ARM64 if hasattr(cs, "CS_ARCH_ARM64") else cs.CS_ARCH_AARCH64,
        cs_mode=cs.CS_MODE_ARM,
        pc=A64.UC_ARM64_REG_PC, sp=A64.UC_ARM64_REG_SP,
        syscall_nr=A64.UC_ARM64_REG_X8,
        syscall_args=(A64.UC_ARM64_REG_X0, A64.UC_ARM64_REG_X1, A64.UC_ARM64_REG_X2,
                      A64.UC_ARM64_REG_X3, A64.UC_ARM64_REG_X4, A64.UC_ARM64_REG_X5),
        syscall_ret=A64.UC_ARM64_REG_X0,
        elf_base=0xAAAA_AAAA_0000, stack_top=0xFFFF_FFFF_F000, mmap_top=0xFFFF_F000_0000,
        platform=b"aarch64", hwcap=0xEFFF,
        o_flags={"O_DIRECTORY": 0o40000, "O_NOFOLLOW": 0o100000, "O_LARGEFILE": 0o400000},
    ),
}


def page_down(x: int, page: int = PAGE) -> int:
    return x & ~(page - 1)


def page_up(x: int, page: int = PAGE) -> int:
    return (x + page - 1) & ~(page - 1)


def perms(p_flags: int) -> int:
    """ELF p_flags (or PROT_* bits, which have R and X swapped) as unicorn permissions."""
    out = uc.UC_PROT_NONE
    if p_flags & PF_R:
        out |= uc.UC_PROT_READ
    if p_flags & PF_W:
        out |= uc.UC_PROT_WRITE
    if p_flags & PF_X:
        out |= uc.UC_PROT_EXEC
    return out


# --- address space -------------------------------------------------------------------

@dataclass
class Region:
    start: int
    end: int
    perms: int
    name: str
    mapped: bool = True          # False: reserved (a file mapping's pages beyond EOF)
    anon_writable: bool = False  # counts toward RLIMIT_DATA


class AddressSpace:
    """The mappings of one process, mirrored into unicorn."""

    def __init__(self, emu: uc.Uc, arch: EmuArch, rng: random.Random, page_size: int = PAGE):
        self.uc, self.arch = emu, arch
        self.page = page_size             # the kernel's page size: mmap's granularity
        self.regions: List[Region] = []
        # The mmap area starts a random number of pages below its top (ASLR).
        self.mmap_next = page_down(arch.mmap_top - rng.randrange(1 << 16) * PAGE, page_size)

    def map(self, start: int, size: int, prot: int, name: str, data: bytes = b"",
            mapped_size: Optional[int] = None, anon_writable: bool = False) -> Region:
        """Map ``size`` bytes (page multiple) at ``start``; only the first ``mapped_size``
        are accessible (the rest is reserved, as pages past a file's end are)."""
        assert start % PAGE == 0 and size % PAGE == 0 and size > 0, (hex(start), size)
        assert not self.overlaps(start, start + size), f"{name}: overlaps {self.region_at(start)}"
        mapped_size = size if mapped_size is None else mapped_size
        if mapped_size:
            self.uc.mem_map(start, mapped_size, prot)
            if data:
                self.uc.mem_write(start, bytes(data[:mapped_size]))
        region = Region(start, start + size, prot, name, True, anon_writable)
        self.regions.append(region)
        if mapped_size < size:
            region.end = start + mapped_size
            self.regions.append(Region(start + mapped_size, start + size, uc.UC_PROT_NONE,
                                       name + " (beyond EOF)", False))
            if not mapped_size:
                self.regions.remove(region)
                return self.regions[-1]
        return region

    def overlaps(self, start: int, end: int) -> bool:
        return any(r.start < end and start < r.end for r in self.regions)

    def region_at(self, addr: int) -> Optional[Region]:
        return next((r for r in self.regions if r.start <= addr < r.end), None)

    def find_free(self, size: int, guard: int = PAGE) -> int:
        """Top-down below the previous mmap (Linux's default layout), leaving ``guard``
        unmapped bytes above the new mapping: every mapping has a hole on each side, so
        reading past the end of a manifest (or before its start) faults here, where Linux
        might quietly read a neighbour."""
        addr = page_down(self.mmap_next - guard - size, self.page)
        while self.overlaps(addr, addr + size + guard):
            low = min(r.start for r in self.regions if r.start < addr + size + guard and addr < r.end)
            addr = page_down(low - guard - size, self.page)
        self.mmap_next = addr
        return addr

    def unmap(self, start: int, end: int) -> None:
        """Remove [start, end) from every mapping it touches (splitting them)."""
        for r in list(self.regions):
            lo, hi = max(r.start, start), min(r.end, end)
            if lo >= hi:
                continue
            if r.mapped:
                self.uc.mem_unmap(lo, hi - lo)
            self.regions.remove(r)
            if r.start < lo:
                self.regions.append(Region(r.start, lo, r.perms, r.name, r.mapped, r.anon_writable))
            if hi < r.end:
                self.regions.append(Region(hi, r.end, r.perms, r.name, r.mapped, r.anon_writable))

    def anon_writable_bytes(self) -> int:
        return sum(r.end - r.start for r in self.regions if r.anon_writable)

    def describe(self, addr: int) -> str:
        r = self.region_at(addr)
        if r is not None:
            return f"{r.name} [{r.start:#x}, {r.end:#x})"
        below = [x for x in self.regions if x.end <= addr]
        above = [x for x in self.regions if x.start > addr]
        near = []
        if below:
            b = max(below, key=lambda x: x.end)
            near.append(f"{addr - b.end:#x} past {b.name}")
        if above:
            a = min(above, key=lambda x: x.start)
            near.append(f"{a.start - addr:#x} before {a.name}")
        return "unmapped (" + ", ".join(near) + ")" if near else "unmapped"


# --- the ELF file ------------------------------------------------------------------------

@dataclass(frozen=True)
class Segment:
    p_type: int
    p_flags: int
    p_offset: int
    p_vaddr: int
    p_filesz: int
    p_memsz: int
    p_align: int


@dataclass(frozen=True)
class ElfFile:
    e_type: int
    e_machine: int
    e_entry: int
    e_phoff: int
    e_phentsize: int
    e_phnum: int
    segments: Tuple[Segment, ...]

    @property
    def loads(self) -> List[Segment]:
        return [s for s in self.segments if s.p_type == PT_LOAD]


def parse_elf(blob: bytes) -> ElfFile:
    """The ELF64 little-endian header and program headers, parsed here (not with
    ``tinylaunch.elf``) so the loader checks the writer rather than trusting it."""
    if blob[:4] != b"\x7fELF" or blob[4] != 2 or blob[5] != 1:
        raise ValueError("not an ELF64 little-endian file")
    (e_type, e_machine, _version, e_entry, e_phoff, _shoff, _flags, _ehsize,
     e_phentsize, e_phnum) = struct.unpack_from("<HHIQQQIHHH", blob, 16)
    segments = tuple(_segment(blob, e_phoff + i * e_phentsize) for i in range(e_phnum))
    return ElfFile(e_type, e_machine, e_entry, e_phoff, e_phentsize, e_phnum, segments)


def _segment(blob: bytes, at: int) -> Segment:
    p_type, p_flags, p_offset, p_vaddr, _paddr, p_filesz, p_memsz, p_align = struct.unpack_from("<IIQQQQQQ", blob, at)
    return Segment(p_type, p_flags, p_offset, p_vaddr, p_filesz, p_memsz, p_align)


@dataclass
class Image:
    """The launcher as loaded: its base, entry and the range its code occupies."""
    base: int
    entry: int
    start: int                   # the segment's mapping, page aligned
    end: int
    text: Tuple[int, int]        # [start, end) of the machine code (entry .. data blob)
    elf: ElfFile
    stack_exec: bool


def load_elf(space: AddressSpace, blob: bytes, rng: random.Random,
             text_size: Optional[int] = None) -> Image:
    """Map ``blob`` as binfmt_elf maps a static PIE: a random base aligned to the largest
    ``p_align``, each PT_LOAD as its p_flags say (file pages; bytes past the file's end
    in the last page are zero). ``text_size``: bytes of machine code from the entry point
    (the rest of the segment is the data blob, which must never run)."""
    arch = space.arch
    elf = parse_elf(blob)
    if elf.e_machine != arch.abi.elf_machine:
        raise ValueError(f"e_machine {elf.e_machine} is not {arch.name}")
    if elf.e_type != ET_DYN:
        raise ValueError(f"e_type {elf.e_type}: only ET_DYN (PIE) launchers are loaded here")
    if any(s.p_type in (PT_INTERP, PT_DYNAMIC) for s in elf.segments):
        raise ValueError("a launcher has no PT_INTERP or PT_DYNAMIC")
    loads = elf.loads
    if not loads:
        raise ValueError("no PT_LOAD")
    align = max([PAGE] + [s.p_align for s in loads])
    if align & (align - 1):
        raise ValueError(f"p_align {align:#x} is not a power of two")
    # ELF_ET_DYN_BASE plus up to 2^16 random alignment units, as arch_mmap_rnd does.
    base = arch.elf_base + rng.randrange(1 << 16) * align
    base -= base % align
    lo = hi = None
    for s in loads:
        if s.p_offset % PAGE != s.p_vaddr % PAGE:
            raise ValueError("PT_LOAD offset and vaddr disagree modulo the page size")
        start = page_down(base + s.p_vaddr)
        end = page_up(base + s.p_vaddr + s.p_memsz)
        file_start = page_down(s.p_offset)
        data = blob[file_start:s.p_offset + s.p_filesz]
        flags = "".join(c if s.p_flags & bit else "-" for c, bit in (("R", PF_R), ("W", PF_W), ("X", PF_X)))
        space.map(start, end - start, perms(s.p_flags), f"launcher PT_LOAD {flags}", data)
        lo = start if lo is None else min(lo, start)
        hi = end if hi is None else max(hi, end)
    stack = [s for s in elf.segments if s.p_type == PT_GNU_STACK]
    entry = base + elf.e_entry
    text_end = entry + text_size if text_size is not None else hi
    return Image(base=base, entry=entry, start=lo, end=hi, text=(entry, text_end), elf=elf,
                 stack_exec=bool(stack and stack[0].p_flags & PF_X) or not stack)


# --- the initial stack ---------------------------------------------------------------------

@dataclass
class InitialStack:
    sp: int                      # where argc is; 16-byte aligned
    top: int                     # the stack mapping's end
    bottom: int                  # the stack mapping's start
    argv: List[int]              # addresses of the argv strings
    envp: List[int]
    execfn: Optional[int]
    random: int                  # AT_RANDOM's 16 bytes
    auxv: List[Tuple[int, int]]  # (type, value) pairs, AT_NULL last


def build_stack(space: AddressSpace, image: Image, argv: Sequence[bytes], envp: Sequence[bytes],
                execfn: Optional[bytes], rng: random.Random, page_size: int = PAGE,
                headroom: int = STACK_HEADROOM) -> InitialStack:
    """The stack Linux hands a new program (fs/exec.c, fs/binfmt_elf.c create_elf_tables):
    strings copied from the top down (the execfn first, so it is highest; then envp, then
    argv, each array's strings in order), a random shift (arch_align_stack), the
    AT_PLATFORM string and AT_RANDOM bytes, then argc, argv, NULL, envp, NULL, auxv,
    AT_NULL, rounded down so sp is 16-byte aligned. ``execfn=None`` leaves AT_EXECFN out."""
    arch = space.arch
    for s in list(argv) + list(envp) + ([execfn] if execfn is not None else []):
        if b"\0" in s:
            raise ValueError(f"a string on the stack cannot hold NUL: {s[:40]!r}")
    strings = b"".join(s + b"\0" for s in argv) + b"".join(s + b"\0" for s in envp)
    strings += (execfn + b"\0") if execfn is not None else b""
    table_words = 1 + len(argv) + 1 + len(envp) + 1 + 2 * 24
    need = 8 + len(strings) + 8192 + 64 + 16 + 8 * table_words + 64
    top = arch.stack_top - rng.randrange(1 << 12) * PAGE
    size = page_up(need) + page_up(headroom)
    bottom = top - size
    space.map(bottom, size, uc.UC_PROT_READ | uc.UC_PROT_WRITE | (uc.UC_PROT_EXEC if image.stack_exec else 0),
              "stack")
    p = top - 8                  # bprm->p = vm_end - sizeof(void *): 8 zero bytes on top
    p -= len(strings)
    strings_at = p
    addrs, at = [], p
    for s in list(argv) + list(envp) + ([execfn] if execfn is not None else []):
        addrs.append(at)
        at += len(s) + 1
    argv_at, envp_at = addrs[:len(argv)], addrs[len(argv):len(argv) + len(envp)]
    execfn_at = addrs[-1] if execfn is not None else None
    space.uc.mem_write(strings_at, strings)
    # arch_align_stack: a random shift below the strings, 16-byte aligned.
    p = (p - rng.randrange(8192)) & ~0xF
    platform = arch.platform + b"\0"
    p -= len(platform)
    platform_at = p
    space.uc.mem_write(platform_at, platform)
    p -= 16
    random_at = p
    space.uc.mem_write(random_at, bytes(rng.getrandbits(8) for _ in range(16)))
    elf = image.elf
    auxv = [(AT_MINSIGSTKSZ, 2048), (AT_HWCAP, arch.hwcap), (AT_PAGESZ, page_size), (AT_CLKTCK, 100),
            (AT_PHDR, image.base + elf.e_phoff), (AT_PHENT, elf.e_phentsize), (AT_PHNUM, elf.e_phnum),
            (AT_BASE, 0), (AT_FLAGS, 0), (AT_ENTRY, image.entry), (AT_UID, 1000), (AT_EUID, 1000),
            (AT_GID, 1000), (AT_EGID, 1000), (AT_SECURE, 0), (AT_RANDOM, random_at), (AT_HWCAP2, 2)]
    if execfn_at is not None:
        auxv.append((AT_EXECFN, execfn_at))
    auxv += [(AT_PLATFORM, platform_at), (AT_NULL, 0)]
    words = [len(argv)] + argv_at + [0] + envp_at + [0] + [x for pair in auxv for x in pair]
    sp = (p - 8 * len(words)) & ~0xF            # STACK_ROUND
    space.uc.mem_write(sp, struct.pack(f"<{len(words)}Q", *words))
    assert sp - bottom >= page_up(headroom) - PAGE, "stack sized too small"
    return InitialStack(sp=sp, top=top, bottom=bottom, argv=argv_at, envp=envp_at, execfn=execfn_at,
                        random=random_at, auxv=auxv)
