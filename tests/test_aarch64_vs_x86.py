"""The aarch64 launcher under qemu-user, against the x86_64 launcher run natively and the
reference model, scenario by scenario (tests/scenarios.py). Its size budget is with the
x86_64 one in test_native.py.

Each scenario's world is built once; the x86_64 launcher runs in it natively, then the
aarch64 launcher replaces it at the same paths and runs under qemu-aarch64-static. There
is no binfmt_misc here: the guest's execve of the probe (a static x86_64 program) is the
host kernel's, so both launchers exec the same probe and report through it.

Both runs must give the same status, the same bytes on stderr and, when the probe ran,
the same file, argv and envp; the aarch64 run must also equal the model (with the final
execve answered by the kernel, as in test_native.py). qemu-user rebuilds the guest's
environment from its own: the harness (test_native.Runner.invocation) hands it the
environment reversed so the guest sees it in order, and scenarios that need duplicate
names, '='-less entries or argc == 0 say cannot={"qemu": ...} and are skipped here.
EXTRA adds edge cases the table does not spell out (NULs in targets, a manifest that ends
at a page boundary, empty manifests, hops at the path limit) and test_exec_errno_80 an
execve errno above every letter of the errno names.  X86_KNOWN lists the x86_64 bugs
found this way.

Without qemu-aarch64-static the tests skip; under CI=true they fail instead.
"""
from __future__ import annotations

import platform
import shutil
import subprocess
from pathlib import Path

import pytest

import scenarios as S
import test_native as N
from conftest import require
from scenarios import APP, BASE_ENV, P, PROG, ROOT, Scenario, manifest_app, world
from tinylaunch.spec import Literal, Rlocation, Spec
from worlds import File, Launcher, Probe, manifest_line

QEMU = "qemu-aarch64-static"
X86 = N.Runner("native", "x86_64")
ARM = N.Runner("qemu", "aarch64", (QEMU,))

empty_argv_seen = N.empty_argv_seen     # the fixture, shared with the native suite


def _need_hosts() -> None:
    require(shutil.which(QEMU), f"{QEMU} is not installed")
    require(platform.machine() == "x86_64",
            f"host is {platform.machine()}: the x86_64 launcher and the probe run natively")


def _page_manifest(size: int, last: bytes) -> bytes:
    """A manifest of exactly ``size`` bytes whose last line, ``last``, has no newline:
    the mapping ends at a page boundary, so a scan that reads one byte too far faults."""
    pad = size - len(last)
    lines = []
    while pad > 0:
        line = b"_main/pad/%06d /nonexistent/pad\n" % len(lines)
        if pad - len(line) < 8 and pad != len(line):
            line = b"_main/p " + b"q" * (pad - 9) + b"\n"
        lines.append(line)
        pad -= len(line)
    data = b"".join(lines) + last
    assert len(data) == size, (len(data), size)
    return data


def _extra(name: str, world, spec: Spec = Spec(PROG), **kw) -> Scenario:
    kw.setdefault("env", BASE_ENV)
    return Scenario(name, "extra", world, spec, **kw)


# Edge cases the table does not spell out, where launchers built differently could part.
EXTRA = [
    # R4 / behaviour.md: a target ends at its first NUL, whatever follows it.
    _extra("target_nul_then_rest", manifest_app(
        b"_main/lib " + ROOT.encode() + b"/out\0junk\n"), Spec(Rlocation("_main/lib/prog"))),
    _extra("target_nul_first", manifest_app(
        manifest_line(P, ROOT + "/out/prog") + b"_main/empty \0junk\n"),
        Spec(PROG, args=(Rlocation("_main/empty"),))),
    # The mapping ends exactly at a page (4 KiB and 64 KiB pages): last line without "\n".
    *[_extra(f"manifest_ends_at_page_{size}", manifest_app(
        _page_manifest(size, manifest_line(P, ROOT + "/out/prog").rstrip(b"\n"))))
      for size in (4096, 65536)],
    _extra("manifest_ends_at_page_escaped_backslash", manifest_app(
        _page_manifest(4096, manifest_line(P, ROOT + "/out/prog") + b" _main/x\\")),
        Spec(PROG, args=(Rlocation("_main/x\\"),))),
    # An empty manifest is a source with no lines.
    _extra("empty_manifest_with_dir", world(Launcher(APP), File("m/empty"), Probe("rf/_main/app/prog")),
           Spec(PROG, args=(Rlocation("_main/none"),)),
           env=BASE_ENV + (f"RUNFILES_DIR={ROOT}/rf", f"RUNFILES_MANIFEST_FILE={ROOT}/m/empty")),
    _extra("empty_manifest_only", world(Launcher(APP), File("m/empty")),
           env=BASE_ENV + (f"RUNFILES_MANIFEST_FILE={ROOT}/m/empty",)),
    # Relative targets whose ".." pops into the link's directory, and a 4,095-byte hop.
    _extra("hop_pops_link_dir", manifest_app(
        manifest_line("_main/a/b/c", "../../x/y") + manifest_line("_main/x/y", ROOT + "/out/prog")),
        Spec(Rlocation("_main/a/b/c"))),
    _extra("hop_path_limit", manifest_app(
        manifest_line(P, "./" + "d/" * 2040 + "z") + manifest_line("_main/app", ROOT + "/out")),
        Spec(PROG, args=(Literal("x"),))),
    # A literal argv0 and embedded literal args around rlocation ones, with debug.
    _extra("mixed_values_debug", S.app({P: Probe(), "_main/data/a": File(data=b"a")}, "both"),
           Spec(PROG, args=(Literal("--a"), Rlocation("_main/data/a"), Literal("")),
                argv0=S.Argv0Literal("argv-zero")),
           env=BASE_ENV + ("TINYLAUNCH_DEBUG=1",)),
]


def _params():
    return [pytest.param(sc, id=sc.name,
                         marks=[pytest.mark.skip(reason=f"qemu cannot: {sc.cannot['qemu']}")]
                         if "qemu" in sc.cannot else [])
            for sc in S.SCENARIOS + EXTRA]


def _run(runner: N.Runner, setup: N.Setup, sc: S.Scenario, spawn: Path, req: Path) -> dict:
    setup.cwd.mkdir(parents=True, exist_ok=True)       # a cwd_deleted run removed it
    ran = N.spawn_run(spawn, req, *runner.invocation(setup.execfn, setup.argv, setup.envp),
                      setup.cwd, sc.data_limit, sc.cwd_deleted)
    assert N.spawn_errno(ran) is None, f"could not start the {runner.arch} launcher: {ran.stderr!r}"
    return N.observed(ran)


@pytest.mark.parametrize("sc", _params())
def test_aarch64_vs_x86(sc, tmp_path, probe, spawn, filler, empty_argv_seen):
    _need_hosts()
    from tinylaunch import emit
    base = tmp_path / "w"
    setup = N.build(sc, "x86_64", base, probe, filler, argv0_empty=empty_argv_seen)
    req = tmp_path / "request"

    def trial(ex):
        return N.spawn_errno(N.spawn_run(spawn, req, ex.file, ex.argv, ex.envp, setup.cwd, sc.data_limit))

    want = N.expected(setup, N.cwd_seen(sc, setup), trial)
    x86 = _run(X86, setup, sc, spawn, req)
    arm_launcher = emit(setup.spec, "aarch64")
    for node in sc.world:
        if isinstance(node, Launcher):
            (base / node.path).write_bytes(arm_launcher)
    arm = _run(ARM, setup, sc, spawn, req)
    _compare(sc.name, want, x86, arm)
    shutil.rmtree(base)


# x86_64 launcher bugs these comparisons found (scenario -> finding).  The aarch64 run
# must still equal the model; the x86_64 one is then an expected failure, and a fixed
# x86_64 fails the test until its entry is removed (strict, like scenarios.PENDING).
X86_KNOWN: dict = {}


def _compare(name: str, want: dict, x86: dict, arm: dict) -> None:
    if arm != want:
        pytest.fail(f"aarch64 differs from the model ({name}):\n{N.mismatch(want, arm)}", pytrace=False)
    known = X86_KNOWN.get(name)
    if x86 != arm:
        message = f"x86_64 differs from aarch64 and the model ({name}):\n{N.mismatch(arm, x86)}"
        if known:
            pytest.xfail(f"known x86_64 bug: {known}")
        pytest.fail(message, pytrace=False)
    if known:
        pytest.fail(f"x86_64 now agrees ({name}): remove it from X86_KNOWN", pytrace=False)


@pytest.fixture(scope="session")
def bad_interpreter_program(helpers_dir) -> Path:
    """A dynamically linked program whose PT_INTERP names a file that is not ELF: execve
    fails with ELIBBAD (80), an errno above every letter of the errno names."""
    cc = shutil.which("gcc") or shutil.which("cc")
    require(cc, "no C compiler to build the ELIBBAD program")
    interp = helpers_dir / "not-an-interpreter"
    interp.write_bytes(b"x" * 4096)
    interp.chmod(0o755)
    src = helpers_dir / "elibbad.c"
    src.write_text("int main(void) { return 0; }\n")
    out = helpers_dir / "elibbad"
    proc = subprocess.run([cc, "-o", str(out), str(src), f"-Wl,--dynamic-linker={interp}"],
                          capture_output=True, text=True)
    require(proc.returncode == 0, f"cannot build the ELIBBAD program: {proc.stderr.strip()[-300:]}")
    return out


def test_exec_errno_80(tmp_path, probe, spawn, filler, empty_argv_seen, bad_interpreter_program):
    """execve's errno 80 is not a named one: "exec FILE: errno 80", status 126."""
    _need_hosts()
    sc = _extra("exec_errno_80", world(Launcher(APP)),
                Spec(Literal(str(bad_interpreter_program)), export_runfiles_env=False))
    test_aarch64_vs_x86(sc, tmp_path, probe, spawn, filler, empty_argv_seen)
