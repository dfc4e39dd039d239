"""Launcher problems the emulator found, pinned as cases beyond the scenario table.

Each case is a ``scenarios.Scenario`` built with the table's own helpers, so it can move
into tests/scenarios.py as it is. On an arch where its finding is pending
(``harness.FINDINGS``) it is xfail(strict=True) with the exact problem as the reason;
everywhere else - and for good once the finding is fixed - it must agree with the model
like any scenario (the three NUL cases found x86_64's "nul_target", fixed in fc72ea9).
"""
from __future__ import annotations

import pytest

from scenarios import P, PROG, ROOT, Scenario, BASE_ENV, manifest_app
from tinylaunch.spec import Rlocation, Spec
from worlds import Probe, manifest_line

from .harness import arch_params, check, pending, scenario_case


def case(name, world, spec=Spec(PROG), **kw):
    return Scenario(name, "R4 (emu finding)", world, spec, env=BASE_ENV, **kw)


CASES = [
    ("nul_target", case("target_nul_first",
                        manifest_app(manifest_line(P, "\0../../x") + manifest_line("_main/x", ROOT + "/out/prog")),
                        doc="the target ends at its NUL: empty, so /dev/null (exec EACCES), not the "
                            "relative ../../x")),
    ("nul_target", case("target_nul_then_rest",
                        manifest_app(manifest_line("_main/app", ROOT + "/out\0junk")),
                        doc="prefix match: the target ends at its NUL, then '/prog' follows: "
                            "@ROOT@/out/prog")),
    ("nul_target", case("target_nul_in_hop",
                        manifest_app(manifest_line(P, "hop\0junk") + manifest_line("_main/app/hop", ROOT + "/out/prog")),
                        doc="a relative target ends at its NUL too")),
]


def _params():
    out = []
    for p in arch_params():
        arch = p.values[0]
        for finding, sc in CASES:
            out.append(pytest.param(arch, sc, id=f"{arch}-{sc.name}", marks=list(p.marks) + pending(arch, finding)))
    return out


@pytest.mark.parametrize("arch,sc", _params())
def test_finding(arch, sc):
    check(scenario_case(sc, arch))
