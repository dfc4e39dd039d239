"""Which code a rendered variant can reach from `_start`, so a feature guard that leaves
a routine behind without its callers shows up as dead code (the tests check every
variant of every arch)."""
from __future__ import annotations

import re

from .assemble import LABEL, MODES, statements

WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Statements after which execution does not go on to the next one.
ENDS_FLOW = {
    "x86_64": re.compile(r"^(jmp|ret)\b"),
    "aarch64": re.compile(r"^(b|ret|br)\b(?!\.)"),
}
# Where the code ends: the constant strings follow it.
CODE_END = "strings"


def blocks(arch: str, text: str) -> list[tuple[str, list[str]]]:
    """(label, statements) per label of the code, in order."""
    out: list[tuple[str, list[str]]] = []
    for stmt in statements(text, MODES[arch][2]):
        match = LABEL.match(stmt.text)
        if match:
            if match.group(1) == CODE_END:
                break
            out.append((match.group(1), []))
        elif out:
            out[-1][1].append(stmt.text)
    return out


def unreachable(arch: str, text: str) -> list[str]:
    """Labels of the code that no path from `_start` reaches: not referenced by reachable
    code, and not fallen into from a reachable block."""
    code = blocks(arch, text)
    names = {label for label, _ in code}
    ends = ENDS_FLOW[arch]
    reached = {"_start"}
    changed = True
    while changed:
        changed = False
        for i, (label, body) in enumerate(code):
            if label not in reached:
                prev_label, prev_body = code[i - 1] if i else (None, [])
                if prev_label in reached and not (prev_body and ends.match(prev_body[-1])):
                    reached.add(label)
                    changed = True
                continue
            for stmt in body:
                for word in WORD.findall(stmt.split(None, 1)[1] if " " in stmt else ""):
                    if word in names and word not in reached:
                        reached.add(word)
                        changed = True
    return [label for label, _ in code if label not in reached]
