"""Acceptance: a broken launcher is caught.

Each mutant changes one branch of the shipped code of a scenario's variant, found through
the labels gen finds when it assembles that variant again (its code checked against the
shipped bytes) and capstone - no address or size is hard-coded, so the mutants follow the
code as it is rewritten:

- ``prefix``: in ``scan_manifest``, the first conditional branch after the comparison
  with ``/`` (the test that a link is a prefix of the path at a segment boundary) gets
  the opposite condition. The scenario table must then show a difference with the model,
  and so must the differential fuzzer, within its CI example budget.
- ``stat_errors``: in ``resolve_rlocation``, the first conditional branch after the
  comparison with ENOTDIR becomes unconditional, so every stat error counts as "not
  there". No scenario fails a stat that way (the table may still pass); fault injection
  must catch it.
"""
from __future__ import annotations

import re
from functools import lru_cache

import capstone as cs
import pytest
from hypothesis import HealthCheck, Phase, find, settings

import scenarios as S
from gen import build, render
from tinylaunch import features
from tinylaunch.emit import shipped_code
from tinylaunch.features import Features

from .conftest import figure
from .harness import arch_params, expected, launch, scenario_case
from .loader import EMU_ARCHES, parse_elf
from .test_faults import run_faults
from .test_fuzz import launch as fuzz_launch

@lru_cache(maxsize=None)
def labels(arch: str, wanted: Features = features.C1) -> dict:
    """Label -> code offset in a variant (gen assembles it again and checks that the
    code is the shipped code, so a stale package would not point the mutants elsewhere)."""
    return build.label_addresses(arch, render.render(arch, wanted), shipped_code(arch, wanted))


def routine(arch: str, name: str, wanted: Features = features.C1):
    """The instructions of routine ``name``: from its label to the next label that is
    not its own (its own labels share its name as a prefix, e.g. scan_byte)."""
    a = EMU_ARCHES[arch]
    table = labels(arch, wanted)
    start = table[name]
    stem = name.split("_")[0] + "_"
    ends = sorted(off for label, off in table.items() if off > start and not label.startswith(stem))
    code = shipped_code(arch, wanted)
    md = cs.Cs(a.cs_arch, a.cs_mode)
    return list(md.disasm(code[start:ends[0] if ends else len(code)], start))


def is_conditional(arch: str, insn) -> bool:
    if arch == "x86_64":
        return insn.mnemonic.startswith("j") and insn.mnemonic not in ("jmp", "jrcxz", "jecxz")
    return insn.mnemonic.startswith("b.") or insn.mnemonic in ("cbz", "cbnz", "tbz", "tbnz")


@lru_cache(maxsize=None)
def branch_after(arch: str, name: str, operand: re.Pattern, wanted: Features = features.C1):
    """The first conditional branch in routine ``name`` of a variant after an instruction
    whose operands match ``operand``."""
    seen = False
    for insn in routine(arch, name, wanted):
        if seen and is_conditional(arch, insn):
            return insn
        seen = seen or bool(operand.search(insn.op_str))
    raise AssertionError(f"{arch}: no conditional branch after {operand.pattern} in {name}")


def flipped(arch: str, insn) -> bytes:
    """The branch with the opposite condition."""
    b = bytearray(insn.bytes)
    if arch == "x86_64":
        if 0x70 <= b[0] <= 0x7F:
            b[0] ^= 1
        else:
            assert b[0] == 0x0F and 0x80 <= b[1] <= 0x8F, insn
            b[1] ^= 1
        return bytes(b)
    word = int.from_bytes(b, "little")
    if word >> 24 == 0x54:                        # b.cond: the condition's low bit inverts it
        word ^= 1
    else:                                          # cbz/cbnz, tbz/tbnz: bit 24
        word ^= 1 << 24
    return word.to_bytes(4, "little")


def unconditional(arch: str, insn) -> bytes:
    """The branch, taken always (same target)."""
    b = bytes(insn.bytes)
    target = int(insn.op_str.split("#")[-1].split()[-1], 16) if arch == "aarch64" else int(insn.op_str, 16)
    if arch == "x86_64":
        assert 0x70 <= b[0] <= 0x7F, insn
        return bytes([0xEB, b[1]])
    return (0x14000000 | (((target - insn.address) >> 2) & 0x3FFFFFF)).to_bytes(4, "little")


def mutant(blob: bytes, at: int, new: bytes) -> bytes:
    entry = parse_elf(blob).e_entry
    out = bytearray(blob)
    out[entry + at:entry + at + len(new)] = new
    return bytes(out)


PREFIX_SCENARIOS = [sc for sc in S.SCENARIOS if "unicorn" not in sc.cannot and "64mib" not in sc.name]
SLASH = re.compile(r"0x2f\b")


def prefix_mutant(case):
    """The case with its variant's prefix test flipped (None: its variant has no scan)."""
    wanted = features.of(case.spec)
    if not wanted.runfiles:
        return None
    insn = branch_after(case.arch, "scan_manifest", SLASH, wanted)
    return case.with_blob(mutant(case.blob, insn.address, flipped(case.arch, insn)))


@pytest.mark.parametrize("arch", arch_params())
def test_prefix_mutant_caught_by_table(arch):
    insn = branch_after(arch, "scan_manifest", SLASH)
    caught, runs = [], 0
    for sc in PREFIX_SCENARIOS:
        case = prefix_mutant(scenario_case(sc, arch))
        if case is None:
            continue
        runs += 1
        if launch(case, keep_log=False).observed() != expected(case):
            caught.append(sc.name)
    figure(f"mutant prefix {arch}", f"mutant {arch} (scan_manifest {insn.mnemonic} flipped, at +{insn.address:#x} "
                                    f"in SPEC C1's variant): {len(caught)} of {runs} scenarios differ from the model")
    assert caught, f"{arch}: flipping {insn.mnemonic} {insn.op_str} went unnoticed"


@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")   # big reprs of long lines
@pytest.mark.parametrize("arch", arch_params())
def test_prefix_mutant_caught_by_fuzzer(arch):
    tried = [0]

    def differs(sc) -> bool:
        tried[0] += 1
        case = prefix_mutant(scenario_case(sc, arch))
        return case is not None and launch(case, keep_log=False).observed() != expected(case)

    # Derandomised (the same examples every run) and not shrunk: the first difference is enough.
    found = find(fuzz_launch(), differs, settings=settings(
        max_examples=300, deadline=None, database=None, derandomize=True, phases=(Phase.generate,),
        suppress_health_check=list(HealthCheck)))
    figure(f"mutant fuzz {arch}", f"mutant {arch}: the fuzzer's example {tried[0]} differs from the model")
    assert differs(found)


@pytest.mark.parametrize("arch", arch_params())
def test_stat_errors_mutant_caught_by_faults(arch):
    case = scenario_case(S.BY_NAME["minimal"], arch)
    insn = branch_after(arch, "resolve_rlocation", re.compile(r"(#|-)0x14\b|#20\b"), features.of(case.spec))
    case = case.with_blob(mutant(case.blob, insn.address, unconditional(arch, insn)))
    runs, changed, failures = run_faults(case, arch)
    assert failures, f"{arch}: ignoring stat errors at +{insn.address:#x} went unnoticed in {runs} fault runs"
    assert any("EACCES" in f for f in failures)
