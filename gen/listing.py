"""A disassembly listing of the shipped code, so a review reads instructions, not hex."""
from __future__ import annotations

import capstone

MODES = {
    "x86_64": (capstone.CS_ARCH_X86, capstone.CS_MODE_64),
    "aarch64": (capstone.CS_ARCH_ARM64, capstone.CS_MODE_ARM),
}


def disassemble(arch: str, code: bytes, end: int) -> list[tuple[int, bytes, str]]:
    """(address, bytes, "mnemonic operands") for the instructions before `end`
    (where the constant strings start)."""
    cs_arch, cs_mode = MODES[arch]
    engine = capstone.Cs(cs_arch, cs_mode)
    if arch == "x86_64":
        engine.syntax = capstone.CS_OPT_SYNTAX_INTEL
    out = []
    for insn in engine.disasm(code[:end], 0):
        out.append((insn.address, bytes(insn.bytes), f"{insn.mnemonic} {insn.op_str}".strip()))
    return out


def listing(arch: str, code: bytes, labels: dict[str, int], end: int) -> str:
    by_address: dict[int, list[str]] = {}
    for name, address in labels.items():
        by_address.setdefault(address, []).append(name)
    lines = []
    for address, raw, text in disassemble(arch, code, end):
        for name in sorted(by_address.get(address, ())):
            lines.append(f"{name}:")
        lines.append(f"  {address:04x}  {raw.hex():<24} {text}")
    lines.append(f"  {end:04x}  constant strings and errno names, {len(code) - end} bytes")
    return "\n".join(lines) + "\n"
