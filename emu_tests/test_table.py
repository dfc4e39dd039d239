"""The scenario table (tests/scenarios.py) under emulation, every shipped arch, compared
with the model exactly: execve's file, argv and envp, the bytes on fd 2, the exit status.

Scenarios that name ``unicorn`` in ``cannot`` are skipped with their reason; those in
``scenarios.PENDING`` (features not there yet) or ``harness.EMU_PENDING`` (problems the
emulator found, ``harness.FINDINGS``) for an arch are xfail(strict=True), as in the native runner.
Here, unlike natively, ``argc == 0`` is a real empty argv and AT_EXECFN can be absent.
"""
from __future__ import annotations

import pytest

import scenarios as S

from .harness import ARCH_NAMES, EMU_PENDING, check, not_shipped, pending, scenario_case

# Page sizes per arch: aarch64 kernels come with 4 KiB and 64 KiB pages (AT_PAGESZ, mmap's
# granularity, zeroes after a manifest's end up to its page's end).
PAGE_SIZES = {"x86_64": (4096,), "aarch64": (4096, 65536)}


def _params():
    out = []
    for arch, page in [(a, p) for a in ARCH_NAMES for p in PAGE_SIZES[a]]:
        for sc in S.SCENARIOS:
            marks = []
            if not_shipped(arch):
                marks.append(pytest.mark.skip(reason=f"{arch}: {not_shipped(arch)}"))
            elif "unicorn" in sc.cannot:
                marks.append(pytest.mark.skip(reason=f"unicorn cannot: {sc.cannot['unicorn']}"))
            feature = S.PENDING.get(arch, {}).get(sc.name)
            if feature:
                marks.append(pytest.mark.xfail(strict=True, raises=pytest.fail.Exception,
                                               reason=f"launcher: {feature} not implemented yet"))
            finding = EMU_PENDING.get(arch, {}).get(sc.name)
            if finding:
                marks += pending(arch, finding)
            pages = "" if page == 4096 else f"-{page // 1024}k"
            out.append(pytest.param(arch, page, sc, id=f"{arch}{pages}-{sc.name}", marks=marks))
    return out


@pytest.mark.parametrize("arch,page,sc", _params())
def test_scenario(arch, page, sc):
    check(scenario_case(sc, arch), page_size=page)
