"""SPEC C2: the command line keeps flag order, merges --spec, writes atomically,
and inspect/explain read launchers back."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from spec_examples import C1_EXAMPLE, C1_EXAMPLE_JSON, HAND_PICKED
from tinylaunch import cli, emit, features, inspect
from tinylaunch.emit import EmitError, shipped_code
from tinylaunch.spec import Argv0Literal, EnvOp, Literal, Rlocation, Spec, spec_to_json


X86_64_C1_CODE = shipped_code("x86_64", features.of(C1_EXAMPLE))


@pytest.fixture
def emitted(tmp_path):
    """Run `tinylaunch emit --arch x86_64 -o OUT FLAGS...` and return the spec inside OUT."""
    def run(*flags: str) -> Spec:
        out = tmp_path / "launcher"
        assert cli.main(["emit", "--arch", "x86_64", "-o", str(out), *flags]) == 0
        return inspect(out.read_bytes()).spec
    return run


def write_spec(tmp_path, text: str) -> str:
    path = tmp_path / "spec.json"
    path.write_text(text)
    return str(path)


def test_flag_order_is_kept(emitted):
    spec = emitted(
        "--arg", "a", "--env", "A=1", "--arg-rlocation", "_main/r", "--env-unset", "B",
        "--env-default", "C=3=3", "--arg=--not-a-flag", "--env-prepend", "PATH=/p",
        "--env-append", "PATH=/q", "--program", "_main/bin/tool", "--env-rlocation", "D=_main/d",
        "--env-prepend-rlocation", "E=_main/e", "--env-append-rlocation", "F=_main/f", "--arg", "",
    )
    assert spec == Spec(
        program=Rlocation("_main/bin/tool"),
        args=(Literal("a"), Rlocation("_main/r"), Literal("--not-a-flag"), Literal("")),
        env=(
            EnvOp("set", "A", Literal("1")),
            EnvOp("unset", "B"),
            EnvOp("default", "C", Literal("3=3")),
            EnvOp("prepend", "PATH", Literal("/p")),
            EnvOp("append", "PATH", Literal("/q")),
            EnvOp("set", "D", Rlocation("_main/d")),
            EnvOp("prepend", "E", Rlocation("_main/e")),
            EnvOp("append", "F", Rlocation("_main/f")),
        ),
    )


@pytest.mark.parametrize("flag, argv0", [
    ([], "logical"), (["--argv0", "resolved"], "resolved"), (["--argv0", "launcher"], "launcher"),
    (["--argv0", "=python3"], Argv0Literal("python3")), (["--argv0", "="], Argv0Literal("")),
])
def test_argv0_flag(emitted, flag, argv0):
    assert emitted("--program-path", "/bin/true", *flag).argv0 == argv0


def test_no_export_runfiles_env(emitted):
    assert emitted("--program-path", "/bin/true").export_runfiles_env is True
    assert emitted("--program-path", "/bin/true", "--no-export-runfiles-env").export_runfiles_env is False


def test_c1_example_spec(emitted, tmp_path):
    assert emitted("--spec", write_spec(tmp_path, C1_EXAMPLE_JSON)) == C1_EXAMPLE


def test_spec_with_flags(emitted, tmp_path):
    spec_path = write_spec(tmp_path, C1_EXAMPLE_JSON)
    merged = emitted("--spec", spec_path, "--arg", "extra", "--env-unset", "X", "--program-path", "/opt/python",
                     "--no-export-runfiles-env", "--argv0", "launcher")
    assert merged == Spec(
        program=Literal("/opt/python"),
        args=(*C1_EXAMPLE.args, Literal("extra")),
        env=(*C1_EXAMPLE.env, EnvOp("unset", "X")),
        export_runfiles_env=False,
        argv0="launcher",
    )


def test_spec_without_args_gets_the_flags(emitted, tmp_path):
    spec_path = write_spec(tmp_path, '{"program": {"rlocation": "_main/p"}}')
    assert emitted("--spec", spec_path, "--arg", "x").args == (Literal("x"),)


@pytest.mark.parametrize("spec", HAND_PICKED, ids=range(len(HAND_PICKED)))
def test_inspect_round_trip(spec):
    found = inspect(emit(spec, "x86_64"))
    assert found.spec == spec
    assert found.arch == "x86_64"
    blob_size = found.sizes["total"]
    code = len(shipped_code("x86_64", features.of(spec)))
    assert found.sizes == {"headers": 176, "code": code, "data": blob_size - 176 - code, "total": blob_size}


def test_inspect_command(tmp_path, capsys):
    launcher = tmp_path / "launcher"
    launcher.write_bytes(emit(C1_EXAMPLE, "x86_64"))
    assert cli.main(["inspect", str(launcher)]) == 0
    out = capsys.readouterr().out
    head, spec_json = out.split("spec:\n")
    assert head.splitlines() == [
        "arch: x86_64", "headers: 176 bytes", f"code: {len(X86_64_C1_CODE)} bytes",
        f"data: {launcher.stat().st_size - 176 - len(X86_64_C1_CODE)} bytes", f"total: {launcher.stat().st_size} bytes",
    ]
    assert json.loads(spec_json) == spec_to_json(C1_EXAMPLE)


def test_inspect_rejects_what_is_not_a_launcher(tmp_path, capsys):
    not_launcher = tmp_path / "true"
    not_launcher.write_bytes(open("/bin/true", "rb").read())
    assert cli.main(["inspect", str(not_launcher)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("tinylaunch: error: not a tinylaunch launcher: ")


def test_inspect_rejects_foreign_code():
    blob = bytearray(emit(C1_EXAMPLE, "x86_64"))
    blob[176] ^= 0xFF
    with pytest.raises(EmitError, match="not a launcher of this tinylaunch version"):
        inspect(bytes(blob))


def test_arch_without_shipped_code(monkeypatch):
    monkeypatch.setitem(sys.modules, "tinylaunch.arch.aarch64", None)   # what an absent module looks like
    with pytest.raises(EmitError, match="^arch aarch64: no launcher code shipped yet$"):
        emit(C1_EXAMPLE, "aarch64")


def test_output_replaces_atomically(tmp_path, capsys):
    out = tmp_path / "launcher"
    out.write_text("old")
    os.link(out, tmp_path / "reader-holds-old")
    assert cli.main(["emit", "--arch", "x86_64", "-o", str(out), "--program-path", "/bin/true"]) == 0
    assert (tmp_path / "reader-holds-old").read_text() == "old"   # replaced by rename, not rewritten
    assert sorted(path.name for path in tmp_path.iterdir()) == ["launcher", "reader-holds-old"]


def test_unwritable_output_leaves_nothing(tmp_path, capsys):
    out = tmp_path / "launcher"
    out.mkdir()
    assert cli.main(["emit", "--arch", "x86_64", "-o", str(out), "--program-path", "/bin/true"]) == 1
    assert len(capsys.readouterr().err.splitlines()) == 1
    assert [path.name for path in tmp_path.iterdir()] == ["launcher"]


SRC = Path(__file__).resolve().parent.parent / "src"


def run_cli(*args: str, cwd=None, env=None) -> subprocess.CompletedProcess:
    """`python -m tinylaunch.cli ARGS` on this checkout's code."""
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "tinylaunch.cli", *args], capture_output=True, text=True,
                          cwd=cwd, env=env)


def test_usage_errors_exit_2_with_one_line():
    for args in ([], ["emit"], ["frobnicate"], ["emit", "--arch", "sparc", "-o", "x"], ["inspect"]):
        result = run_cli(*args)
        assert result.returncode == 2, args
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("tinylaunch: error: "), result.stderr


def test_help_documents_spec_merging():
    result = run_cli("emit", "--help")
    assert result.returncode == 0
    assert "appended after the" in result.stdout and "override" in result.stdout


def test_explain(tmp_path):
    launcher = tmp_path / "app"
    (tmp_path / "app.runfiles" / "_main").mkdir(parents=True)
    (tmp_path / "app.runfiles" / "_main" / "data.txt").write_text("")
    assert run_cli("emit", "--arch", "x86_64", "-o", str(launcher), "--program-path", "/bin/echo",
                   "--arg", "hi", "--arg-rlocation", "_main/data.txt", "--env", "NEW=1", "--env", "OLD=new",
                   "--env-unset", "GONE").returncode == 0
    world = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "OLD": "old", "GONE": "x", "KEPT": "k"}
    result = run_cli("explain", "app", "--", "-x", "y", cwd=tmp_path, env=world)
    assert result.returncode == 0, result.stderr
    runfiles = f"{tmp_path}/app.runfiles"
    assert result.stdout.splitlines() == [
        "file: /bin/echo",
        "argv:",
        "  [0] /bin/echo",
        "  [1] hi",
        f"  [2] {runfiles}/_main/data.txt",
        "  [3] -x",
        "  [4] y",
        "env changes:",
        "  ~ OLD=new (was old)",
        "  - GONE (was x)",
        "  + NEW=1",
        f"  + RUNFILES_DIR={runfiles}",
        f"  + JAVA_RUNFILES={runfiles}",
    ]


def test_explain_failure(tmp_path):
    launcher = tmp_path / "app"
    assert run_cli("emit", "--arch", "x86_64", "-o", str(launcher), "--program", "_main/missing").returncode == 0
    result = run_cli("explain", str(launcher), cwd=tmp_path, env={"PATH": os.environ.get("PATH", "/bin")})
    assert result.returncode == 1
    assert result.stdout.splitlines() == ["fails with exit status 127:", "  tinylaunch: no runfiles: _main/missing"]


def test_inspect_into_a_closed_pipe_is_quiet(tmp_path):
    """`tinylaunch inspect X | head -1`: the reader leaves early; no traceback, no message."""
    launcher = tmp_path / "launcher"
    launcher.write_bytes(emit(C1_EXAMPLE, "x86_64"))
    read_end, write_end = os.pipe()
    os.close(read_end)
    src = str(Path(__file__).resolve().parent.parent / "src")
    result = subprocess.run([sys.executable, "-m", "tinylaunch.cli", "inspect", str(launcher)], stdout=write_end,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": src})
    os.close(write_end)
    assert (result.returncode, result.stderr) == (1, "")
