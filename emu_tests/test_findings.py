"""Cases beyond the scenario table: the emulator's findings, and edges only it can check.

Each case is a ``scenarios.Scenario`` built with the table's own helpers, so it can move
into tests/scenarios.py as it is. On an arch where its finding is pending
(``harness.FINDINGS``) it is xfail(strict=True) with the exact problem as the reason;
everywhere else - and for good once the finding is fixed - it must agree with the model
like any scenario (the three NUL cases found x86_64's "nul_target", fixed in fc72ea9).

Page-end cases: a manifest of exactly one page (4 KiB, 64 KiB) whose last line ends at
the page's last byte - no newline, a link without a target, a trailing backslash in an
escaped link or target. The emulator maps a file's pages and nothing after them, with
an unmapped page on each side of every mapping, so reading one byte past the manifest
faults (natively it may read a neighbour, or SIGBUS).
"""
from __future__ import annotations

import pytest

from scenarios import P, PROG, ROOT, Scenario, BASE_ENV, manifest_app
from tinylaunch.spec import Rlocation, Spec
from worlds import manifest_line

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


def page_exact(tail: bytes, size: int) -> bytes:
    """Manifest bytes of exactly ``size``: a padding line, then ``tail`` at the very end."""
    head = b"_main/pad /nonexistent/"
    pad = size - len(tail) - len(head) - 1
    assert pad > 0
    return head + b"p" * pad + b"\n" + tail


for size in (4096, 65536):
    k = f"{size // 1024}k"
    CASES += [
        (None, case(f"page_end_{k}_exact", manifest_app(page_exact(P.encode() + b" " + ROOT.encode() + b"/out/prog", size)))),
        (None, case(f"page_end_{k}_prefix", manifest_app(page_exact(b"_main/app " + ROOT.encode() + b"/out", size)),
                    Spec(Rlocation("_main/app/prog")),
                    doc="the prefix line ends the page: @ROOT@/out + /prog")),
        (None, case(f"page_end_{k}_no_target", manifest_app(page_exact(P.encode(), size)))),
        (None, case(f"page_end_{k}_escaped_target_backslash",
                    manifest_app(page_exact(b" " + P.encode() + b" " + ROOT.encode() + b"/out/prog\\", size)))),
        (None, case(f"page_end_{k}_escaped_link_backslash", manifest_app(page_exact(b" " + P.encode() + b"\\", size)))),
        (None, case(f"page_end_{k}_escape_split", manifest_app(page_exact(b" _main/app/pro\\", size)),
                    Spec(Rlocation("_main/app/pro\\")))),
    ]


def _params():
    out = []
    for p in arch_params():
        arch = p.values[0]
        for finding, sc in CASES:
            marks = list(p.marks) + (pending(arch, finding) if finding else [])
            out.append(pytest.param(arch, sc, id=f"{arch}-{sc.name}", marks=marks))
    return out


@pytest.mark.parametrize("arch,sc", _params())
def test_finding(arch, sc):
    check(scenario_case(sc, arch))
