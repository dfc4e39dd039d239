"""Assemble rendered launcher text with keystone, failing loudly.

keystone quirks handled here: in AArch64 mode an instruction followed by a `//` comment
is silently dropped, so comments are stripped before assembly; a statement that yields
no bytes is an error, never a silent gap."""
from __future__ import annotations

import re
from dataclasses import dataclass

import keystone

MODES = {
    "x86_64": (keystone.KS_ARCH_X86, keystone.KS_MODE_64, "#"),
    "aarch64": (keystone.KS_ARCH_ARM64, keystone.KS_MODE_LITTLE_ENDIAN, "//"),
}


REP_PREFIXES = {"rep", "repe", "repz", "repne", "repnz"}
LABEL = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*):$")     # a statement that defines a label


class AssembleError(Exception):
    pass


@dataclass
class Statement:
    line: int        # 1-based line in the rendered text
    text: str        # the statement, comment stripped
    raw: str = ""    # the rendered line, comment included (it may say where it came from)

    def where(self) -> str:
        """The template file and line, else the rendered line."""
        from .render import origin
        return origin(self.raw) or f"rendered line {self.line}"


def statements(text: str, comment: str) -> list[Statement]:
    out = []
    for number, raw in enumerate(text.splitlines(), 1):
        code = raw.split(comment, 1)[0].strip()
        if code:
            out.append(Statement(number, code, raw))
    return out


def failing_statement(engine, stmts: list[Statement], errno: int) -> int:
    """Index of the first statement at which assembly fails with ``errno``: the shortest
    failing prefix, by bisection (keystone's own statement count is 0 for most errors;
    a prefix that fails otherwise, on a label defined further on, counts as passing)."""
    def fails(n: int) -> bool:
        try:
            engine.asm("\n".join(s.text for s in stmts[:n]), 0)
        except keystone.KsError as error:
            return error.errno == errno
        return False
    lo, hi = 1, len(stmts)
    while lo < hi:
        mid = (lo + hi) // 2
        if fails(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo - 1


def assemble(arch: str, text: str) -> bytes:
    """Machine code for the rendered text, at address 0 (the code is position independent)."""
    ks_arch, ks_mode, comment = MODES[arch]
    engine = keystone.Ks(ks_arch, ks_mode)
    stmts = statements(text, comment)
    source = "\n".join(s.text for s in stmts)
    try:
        encoding, count = engine.asm(source, 0)
    except keystone.KsError as error:
        where = stmts[failing_statement(engine, stmts, error.errno)]
        raise AssembleError(f"{arch}: {where.where()}: {where.text!r}: {error}") from None
    if not encoding:
        raise AssembleError(f"{arch}: keystone returned no bytes")
    # keystone counts labels as statements and an x86 rep prefix as one more
    expected = len(stmts) + sum(s.text.split()[0] in REP_PREFIXES for s in stmts)
    if count != expected:
        # a statement keystone skipped (the AArch64 comment quirk, or an unknown directive)
        raise AssembleError(f"{arch}: keystone counted {count} statements, "
                            f"expected {expected}")
    return bytes(encoding)
