"""Run one emitted launcher under unicorn: load it (loader.py), give it a kernel
(syscalls.py) over an in-memory filesystem (memfs.py), and report how it ended.

The run fails - ``Outcome.violations`` is not empty - on any of: an access to unmapped
memory (including the stack below ``loader.STACK_HEADROOM``), a write to the
launcher's segment or to read-only memory, execution outside the launcher's machine
code (its ELF headers, its data blob, the stack, the heap, a mapped manifest), an
invalid instruction, an unexpected syscall number or exception, a bad pointer handed to
the kernel, the emulation running past its time limit, or stopping without execve or
exit_group.

Optional instrumentation (deterministic figures for test_budgets.py):
``count=True`` counts executed instructions with a block hook (each block's size in
instructions comes from capstone; a ``rep``-prefixed x86 string instruction counts once
per iteration, as unicorn's per-instruction hook counts it); ``trace_stack=True`` adds a
per-instruction hook that records the lowest sp (and counts instructions exactly, to
cross-check the block count).
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence

import capstone as cs
import unicorn as uc

from .loader import EMU_ARCHES, PAGE, AddressSpace, Image, InitialStack, build_stack, load_elf
from .memfs import MemFS
from .syscalls import Call, Fault, Kernel, Stop

DEFAULT_TIMEOUT = 30.0          # seconds of emulation before a run counts as hung


@dataclass
class Outcome:
    stop: Optional[Stop]
    stdout: bytes
    stderr: bytes
    calls: List[Call]
    log: List[str]
    violations: List[str]
    image: Image
    stack: InitialStack
    instructions: Optional[int] = None          # from the block count
    profile: Optional[Dict[int, int]] = None    # instructions per file offset (count=True)
    exact_instructions: Optional[int] = None    # from the per-instruction hook (trace_stack)
    stack_depth: Optional[int] = None           # initial sp - lowest sp (trace_stack)
    anon_bytes: int = 0                         # private writable memory mapped at the end
    tolerated: List[str] = field(default_factory=list)   # known findings met (harness.KNOWN)
    seconds: float = 0.0

    @property
    def crashed(self) -> bool:
        return bool(self.violations) or self.stop is None

    def observed(self) -> dict:
        """The run in the same form as the native runner's ``observed``: status,
        stderr and, for an execve, file/argv/envp; a crash adds ``crash``."""
        out: dict
        if self.stop is not None and self.stop.kind == "exec":
            out = {"status": 0, "stderr": self.stderr, "file": self.stop.file,
                   "argv": list(self.stop.argv), "envp": list(self.stop.envp)}
        else:
            out = {"status": None if self.stop is None else self.stop.status, "stderr": self.stderr,
                   "probe ran": False}
        if self.stdout:
            out["stdout"] = self.stdout
        if self.crashed:
            out["crash"] = "; ".join(self.violations) or "stopped without execve or exit_group"
        return out

    def tail(self, n: int = 25) -> str:
        """The last lines of the strace-like log, for failure messages."""
        lines = self.log[-n:]
        skipped = len(self.log) - len(lines)
        return ("  ... %d earlier calls\n" % skipped if skipped else "") + "\n".join("  " + l for l in lines)


class _BlockCounter:
    """Instructions per executed block, each block's count computed once by capstone;
    ``blocks`` counts executions per (address, size) for a profile."""

    def __init__(self, emu: uc.Uc, md: cs.Cs):
        self.emu, self.md = emu, md
        self.sizes: Dict[tuple, int] = {}
        self.blocks: Dict[tuple, int] = {}
        self.total = 0

    def __call__(self, emu, address, size, _user):
        key = (address, size)
        n = self.sizes.get(key)
        if n is None:
            code = bytes(emu.mem_read(address, size))
            n = sum(1 for _ in self.md.disasm_lite(code, address))
            self.sizes[key] = n
            self.blocks[key] = 0
        self.blocks[key] += 1
        self.total += n

    def profile(self, base: int) -> Dict[int, int]:
        """Instructions executed per instruction offset from ``base`` (the image base)."""
        out: Dict[int, int] = {}
        for (address, size), times in self.blocks.items():
            code = bytes(self.emu.mem_read(address, size))
            for insn in self.md.disasm_lite(code, address):
                out[insn[0] - base] = out.get(insn[0] - base, 0) + times
        return out


def disassemble_at(emu: uc.Uc, arch: str, addr: int) -> str:
    a = EMU_ARCHES[arch]
    try:
        code = bytes(emu.mem_read(addr, 16))
    except uc.UcError:
        return "<unreadable>"
    for insn in cs.Cs(a.cs_arch, a.cs_mode).disasm(code, addr):
        return f"{insn.mnemonic} {insn.op_str}".strip()
    return f"<undecodable {code[:4].hex()}>"


def run(blob: bytes, arch: str, fs: MemFS, argv: Sequence[bytes], envp: Sequence[bytes],
        execfn: Optional[bytes], *, seed: Optional[int] = None, text_size: Optional[int] = None,
        on_enter: Sequence[Callable[[Kernel, Call], Optional[Fault]]] = (),
        data_limit: Optional[int] = None, short_reads: bool = False, short_writes: bool = False,
        count: bool = False, trace_stack: bool = False, timeout: float = DEFAULT_TIMEOUT,
        keep_log: bool = True, tolerate: Sequence[str] = (), page_size: int = PAGE) -> Outcome:
    """Start ``blob`` as Linux would with this argv, envp and AT_EXECFN, over ``fs``
    (its working directory is the process's), and run it to execve or exit_group.
    ``page_size``: the kernel's (AT_PAGESZ, mmap granularity; 64 KiB for an aarch64
    kernel built so - what the launcher's 64 KiB p_align is for)."""
    a = EMU_ARCHES[arch]
    rng = random.Random(seed)
    emu = uc.Uc(a.uc_arch, a.uc_mode)
    space = AddressSpace(emu, a, rng, page_size)
    image = load_elf(space, blob, rng, text_size)
    stack = build_stack(space, image, list(argv), list(envp), execfn, rng, page_size)
    emu.reg_write(a.sp, stack.sp)
    kernel = Kernel(emu, a, space, fs, data_limit=data_limit, short_reads=short_reads,
                    short_writes=short_writes, keep_log=keep_log, tolerate=tuple(tolerate))
    kernel.on_enter.extend(on_enter)
    kernel.attach()
    violations = kernel.violations

    def bad_access(emu, access, address, size, value, _user):
        kinds = {uc.UC_MEM_READ_UNMAPPED: "read of unmapped memory", uc.UC_MEM_WRITE_UNMAPPED: "write to unmapped memory",
                 uc.UC_MEM_FETCH_UNMAPPED: "execution of unmapped memory", uc.UC_MEM_WRITE_PROT: "write to read-only memory",
                 uc.UC_MEM_READ_PROT: "read of unreadable memory", uc.UC_MEM_FETCH_PROT: "execution of non-executable memory"}
        pc = emu.reg_read(a.pc)
        where = space.describe(address)
        if address >= stack.bottom - 0x10000 and address < stack.bottom:
            where += f"; the stack would be {stack.sp - address} bytes deep"
        violations.append(f"{kinds.get(access, access)} at {address:#x} ({size} bytes) in {where}, "
                          f"pc {pc:#x} (+{pc - image.base:#x}: {disassemble_at(emu, arch, pc)})")
        return False

    emu.hook_add(uc.UC_HOOK_MEM_UNMAPPED | uc.UC_HOOK_MEM_PROT, bad_access)

    def outside_code(emu, address, size, _user):
        violations.append(f"execution outside the launcher's code at {address:#x} (+{address - image.base:#x}, "
                          f"code is [+{image.text[0] - image.base:#x}, +{image.text[1] - image.base:#x}))")
        emu.emu_stop()

    if image.start < image.text[0]:
        emu.hook_add(uc.UC_HOOK_CODE, outside_code, None, image.start, image.text[0] - 1)
    if image.text[1] < image.end:
        emu.hook_add(uc.UC_HOOK_CODE, outside_code, None, image.text[1], image.end - 1)

    def invalid(emu, _user):
        pc = emu.reg_read(a.pc)
        violations.append(f"invalid instruction at {pc:#x} (+{pc - image.base:#x})")
        return False

    emu.hook_add(uc.UC_HOOK_INSN_INVALID, invalid)
    if arch == "x86_64":
        def interrupt(emu, intno, _user):
            pc = emu.reg_read(a.pc)
            violations.append(f"interrupt {intno} at {pc:#x} (+{pc - image.base:#x})")
            emu.emu_stop()
        emu.hook_add(uc.UC_HOOK_INTR, interrupt)

    counter = None
    if count:
        counter = _BlockCounter(emu, cs.Cs(a.cs_arch, a.cs_mode))
        emu.hook_add(uc.UC_HOOK_BLOCK, counter)
    lowest = [stack.sp, 0]
    if trace_stack:
        sp_reg = a.sp
        check_align = arch == "aarch64"

        def each(emu, address, size, _user):
            sp = emu.reg_read(sp_reg)
            lowest[1] += 1
            if sp < lowest[0]:
                lowest[0] = sp
            if check_align and sp % 16:
                violations.append(f"sp {sp:#x} not 16-byte aligned at {address:#x}")
                emu.emu_stop()
        emu.hook_add(uc.UC_HOOK_CODE, each, None, image.text[0], image.text[1] - 1)

    started = time.monotonic()
    try:
        emu.emu_start(image.entry, 0, timeout=int(timeout * 1_000_000))
    except uc.UcError as e:
        pc = emu.reg_read(a.pc)
        if not violations or e.errno not in (uc.UC_ERR_READ_UNMAPPED, uc.UC_ERR_WRITE_UNMAPPED, uc.UC_ERR_FETCH_UNMAPPED,
                                             uc.UC_ERR_READ_PROT, uc.UC_ERR_WRITE_PROT, uc.UC_ERR_FETCH_PROT):
            violations.append(f"unicorn: {e} at pc {pc:#x} (+{pc - image.base:#x}: {disassemble_at(emu, arch, pc)})")
    seconds = time.monotonic() - started
    if kernel.stop is None and not violations:
        pc = emu.reg_read(a.pc)
        why = "timed out" if seconds >= timeout * 0.99 else "stopped"
        violations.append(f"emulation {why} after {seconds:.1f}s without execve or exit_group, "
                          f"pc {pc:#x} (+{pc - image.base:#x})")
    return Outcome(stop=kernel.stop, stdout=bytes(kernel.output[1]), stderr=bytes(kernel.output[2]),
                   calls=kernel.calls, log=kernel.log, violations=list(violations), image=image, stack=stack,
                   instructions=counter.total if counter else None,
                   profile=counter.profile(image.base) if counter else None,
                   exact_instructions=lowest[1] if trace_stack else None,
                   stack_depth=stack.sp - lowest[0] if trace_stack else None,
                   anon_bytes=space.anon_writable_bytes(), seconds=seconds, tolerated=kernel.tolerated)
