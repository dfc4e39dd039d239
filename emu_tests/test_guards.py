"""The test bed's own guards: a launcher that misbehaves must fail the run, not pass
quietly. Each case overwrites the entry of a real launcher with a few instructions
(assembled by keystone, a dev dependency) and checks the violation the emulator reports."""
from __future__ import annotations

import pytest

import scenarios as S
from tinylaunch import emit

from . import emulator
from .harness import arch_params, text_size
from .loader import parse_elf
from .memfs import MemFS

keystone = pytest.importorskip("keystone")

KS = {"x86_64": (keystone.KS_ARCH_X86, keystone.KS_MODE_64),
      "aarch64": (keystone.KS_ARCH_ARM64, keystone.KS_MODE_LITTLE_ENDIAN)}

# name -> (x86_64 snippet, aarch64 snippet, text expected in the violation). ``{blob}``
# is the data blob's offset from the entry point.
CASES = {
    "write_to_code": ("lea rax, [rip]; mov byte ptr [rax], 0x90", "adr x0, .; strb wzr, [x0]",
                      "write to read-only memory"),
    "read_unmapped": ("mov rax, qword ptr [0x1000]", "mov x0, #0x1000; ldr x1, [x0]", "read of unmapped memory"),
    "write_unmapped": ("mov qword ptr [0x1000], rax", "mov x0, #0x1000; str x1, [x0]", "write to unmapped memory"),
    "unknown_syscall": ("mov eax, 999; syscall", "mov x8, #999; svc #0", "unexpected system call number 999"),
    "execute_stack": ("jmp rsp", "mov x0, sp; br x0", "execution of non-executable memory"),
    "execute_data_blob": ("jmp {blob}", "b {blob}", "execution outside the launcher's code"),
    "stack_overflow": ("l: push rax; jmp l", "l: stp x0, x1, [sp, #-16]!; b l", "the stack would be"),
    "bad_pointer": ("mov eax, 257; mov edi, -100; xor esi, esi; xor edx, edx; syscall",
                    "mov x8, #56; mov x0, #-100; mov x1, #0; mov x2, #0; svc #0", "bad pointer"),
    "mmap_exec": ("xor edi, edi; mov esi, 4096; mov edx, 5; mov r10d, 0x22; mov r8, -1; xor r9d, r9d; "
                  "mov eax, 9; syscall",
                  "mov x0, #0; mov x1, #4096; mov x2, #5; mov x3, #0x22; mov x4, #-1; mov x5, #0; mov x8, #222; svc #0",
                  "PROT_EXEC"),
    "no_exit": ("hlt", "mov x0, #0; b .", "without execve or exit_group"),
}
ARCH_ONLY = {
    "aarch64": {
        "misaligned_sp_at_syscall": "sub sp, sp, #8; mov x0, #0; mov x8, #94; svc #0",
        "svc_not_zero": "svc #1",
    },
}
ARCH_EXPECT = {"misaligned_sp_at_syscall": "not 16-byte aligned", "svc_not_zero": "unexpected exception"}


def patched(arch: str, asm: str) -> bytes:
    blob = bytearray(emit(S.C1_SPEC, arch))
    entry = parse_elf(bytes(blob)).e_entry
    # the first instruction-aligned address in the data blob (aarch64 branches by words)
    asm = asm.format(blob=(text_size(arch) + 3) & ~3)
    code, _ = keystone.Ks(*KS[arch]).asm(asm, 0)
    blob[entry:entry + len(code)] = bytes(code)
    return bytes(blob)


def violation(arch: str, asm: str, timeout: float = 2.0) -> str:
    out = emulator.run(patched(arch, asm), arch, MemFS(), [b"app"], [], b"/app", seed=7,
                       text_size=text_size(arch), timeout=timeout)
    assert out.crashed, out.observed()
    return out.observed()["crash"]


def _params():
    out = []
    for p in arch_params():
        arch = p.values[0]
        for name, (x86, a64, expect) in CASES.items():
            out.append(pytest.param(arch, x86 if arch == "x86_64" else a64, expect, id=f"{arch}-{name}", marks=p.marks))
        for name, asm in ARCH_ONLY.get(arch, {}).items():
            out.append(pytest.param(arch, asm, ARCH_EXPECT[name], id=f"{arch}-{name}", marks=p.marks))
    return out


@pytest.mark.parametrize("arch,asm,expect", _params())
def test_guard(arch, asm, expect):
    assert expect in violation(arch, asm)


@pytest.mark.parametrize("arch", arch_params())
def test_syscall_abi_clobbers(arch):
    """x86_64's syscall leaves the return address in rcx (the launcher must not keep
    anything there); aarch64's svc changes only x0. The snippet exits with a byte of the
    register in question as its status (0: rcx held the address after the syscall)."""
    if arch == "x86_64":
        asm = ("mov rcx, 0x1234; mov eax, 1; mov edi, 2; lea rsi, [rip]; mov edx, 1; syscall; "
               "lea rdx, [rip - 7]; sub rcx, rdx; mov edi, ecx; mov eax, 231; syscall")
        want = 0
    else:
        asm = ("mov x9, #77; mov x0, #2; adr x1, .; mov x2, #1; mov x8, #64; svc #0; "
               "mov x0, x9; mov x8, #94; svc #0")
        want = 77
    out = emulator.run(patched(arch, asm), arch, MemFS(), [b"app"], [], b"/app", seed=7, text_size=text_size(arch))
    assert not out.crashed, out.observed()
    assert out.stop.status == want and len(out.stderr) == 1
