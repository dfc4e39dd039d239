"""End to end with a real Bazel: e2e/example's launchers built, run and tested.

Runfiles modes, each in its own output base (so one mode never sees another's trees):
- ``default``: runfiles trees (symlink forests) beside every binary;
- ``noenable`` (``--noenable_runfiles``): ``X.runfiles/`` holds only ``MANIFEST`` and an
  empty folder per repository; a TreeArtifact is one manifest line;
- ``nolinks`` (``--nobuild_runfile_links``): ``bazel build`` writes ``X.runfiles_manifest``
  only; ``bazel run`` and ``bazel test`` make the tree when they need it.

The cases run in this file's order: the direct runs of each mode come before its
``bazel run`` (which would make the runfiles tree that ``nolinks`` lacks).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from e2e.bazel_harness import REPO, Workspace, clean_env, require

MODES = {
    "default": [],
    "noenable": ["--noenable_runfiles"],
    "nolinks": ["--nobuild_runfile_links"],
}
EM_X86_64, EM_AARCH64 = 62, 183

RUNTIME_ARGS = ["rt one", "--rt2"]


def run(argv: list, cwd: Path, env: dict, status: int = 0) -> str:
    """Run a launcher directly (no Bazel); return its output, checking the exit status."""
    proc = subprocess.run([str(a) for a in argv], cwd=cwd, env=env, stdin=subprocess.DEVNULL, check=False,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
    assert proc.returncode == status, f"{argv} in {cwd} exited {proc.returncode}:\n{proc.stdout}"
    return proc.stdout


def bare_env(**extra: str) -> dict:
    """No Bazel variable at all: PATH (check.py starts with /usr/bin/env python3) and HOME."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/")}
    env.update(extra)
    return env


def report(output: str) -> dict:
    """The JSON report that args/check.py and venv/main.py print first."""
    found = re.search(r"^\{\n.*?^\}$", output, re.MULTILINE | re.DOTALL)
    assert found, f"no JSON report in:\n{output}"
    return json.loads(found.group(0))


def elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", f"{path} is not an ELF file"
    return struct.unpack_from("<H", header, 18)[0]


def shipped(arch: str) -> bool:
    from tinylaunch.emit import EmitError, shipped_code
    try:
        shipped_code(arch)
    except EmitError:
        return False
    return True


def expect_tree_output(output: str, args: list, runfiles_dir, manifest) -> None:
    lines = output.splitlines()
    assert "greeting: hello from a TreeArtifact" in lines, output
    assert [line[len("arg: "):] for line in lines if line.startswith("arg: ")] == args, output
    assert "GREETING_FILE: hello from a TreeArtifact" in lines, output
    assert "tree program ok" in lines, output
    exported = dict(line.split("=", 1) for line in lines if line.startswith("RUNFILES_"))
    for name, want in (("RUNFILES_DIR", runfiles_dir), ("RUNFILES_MANIFEST_FILE", manifest)):
        got = exported.get(name)
        if want is None:
            assert got == "<unset>", f"{name}={got}, expected unset:\n{output}"
        elif want is not ...:   # ... : set, to an absolute path
            assert got == str(want), f"{name}={got}, expected {want}:\n{output}"
        else:
            assert got and got.startswith("/"), f"{name}={got}:\n{output}"


# --- 1. built by `bazel build`, run straight from bazel-bin ------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_direct_run_from_bazel_bin(workspace: Workspace, tmp_path, mode):
    """`bazel build`, then each launcher run from bazel-bin with no Bazel variable, from another folder."""
    targets = ["//tree:hello", "//args:args_bin", "//venv:app", "//genrule:hello"]
    workspace(mode, "build", *MODES[mode], *targets)
    bazel_bin = workspace.bazel_bin
    hello = bazel_bin / "tree" / "hello"
    runfiles, manifest = Path(f"{hello}.runfiles"), Path(f"{hello}.runfiles_manifest")

    # The runfiles each mode leaves (what the launcher has to work with).
    assert manifest.is_file()
    if mode == "default":
        assert (runfiles / "example" / "tree" / "hello_tree" / "bin" / "hello").is_file()
    elif mode == "noenable":
        # MANIFEST only (`bazel run` adds an empty folder named after the workspace, its cwd).
        assert sorted(p.name for p in runfiles.iterdir()) == ["MANIFEST"]
    else:
        assert not runfiles.exists()
    want_dir = None if mode == "nolinks" else runfiles
    want_manifest = None if mode == "default" else manifest

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = run([hello, "cli arg"], elsewhere, bare_env())
    expect_tree_output(out, ["embedded one", "two", "cli arg"], want_dir, want_manifest)

    # A relative launcher path: the runfiles paths it exports are made absolute.
    parent = workspace.path.parent
    relative = hello.relative_to(parent)
    out = run([relative], parent, bare_env())
    expect_tree_output(out, ["embedded one", "two"], want_dir and parent / f"{relative}.runfiles",
                       want_manifest and parent / f"{relative}.runfiles_manifest")

    # rlocation paths as $(rlocationpath) prints them on Bazel >= 5.4: <repository>/<path>.
    spec = json.loads((bazel_bin / "args" / "args_bin.tinylaunch.json").read_text())
    assert spec["program"] == {"rlocation": "example/args/check.py"}
    assert {"op": "set", "name": "ARGS_EXTERNAL", "value": {"rlocation": "tinylaunch/MODULE.bazel"}} in spec["env"]

    out = run([bazel_bin / "args" / "args_bin", *RUNTIME_ARGS], elsewhere,
              bare_env(EXPECT_RUNTIME_ARGS=json.dumps(RUNTIME_ARGS), ARGS_GONE="1", ARGS_LIST="middle",
                       EXPECT_ARGS_LIST_MIDDLE="middle", ARGS_DEFAULT="from outside",
                       EXPECT_ARGS_DEFAULT="from outside"))
    assert "args check ok" in out.splitlines(), out
    assert report(out)["argv"][-2:] == RUNTIME_ARGS

    out = run([bazel_bin / "venv" / "app"], elsewhere, bare_env())
    assert "venv ok" in out.splitlines(), out
    assert report(out)["BAZEL_TARGET"] == "//venv:app"
    out = run([bazel_bin / "venv" / "app"], elsewhere,
              bare_env(BAZEL_TARGET="//set:outside", EXPECT_BAZEL_TARGET="//set:outside"))
    assert "venv ok" in out.splitlines(), out

    out = run([bazel_bin / "genrule" / "hello", "x"], elsewhere, bare_env())
    assert out == "hello.sh: from a genrule x\n"


# --- 2. bazel test ---------------------------------------------------------------------

TEST_RUNS = {
    "default": ("default", []),
    "noenable-sandboxed": ("noenable", []),          # the sandbox lays out a runfiles tree anyway
    "noenable-local": ("noenable", ["--strategy=TestRunner=local"]),   # manifest only
    "nolinks": ("nolinks", []),
}


@pytest.mark.parametrize("run_name", TEST_RUNS)
def test_bazel_test(workspace: Workspace, run_name):
    """`bazel test` of launchers: a TreeArtifact program, args and env ops, a venv; runtime args added."""
    base, extra = TEST_RUNS[run_name]
    workspace(base, "test", *MODES[base], *extra, "--nocache_test_results", "--test_output=errors",
              *[f"--test_arg={arg}" for arg in RUNTIME_ARGS],
              f"--test_env=EXPECT_RUNTIME_ARGS={json.dumps(RUNTIME_ARGS)}",
              f"--test_env=TREE_EXPECT_ARGS={' '.join(['embedded one', 'two', *RUNTIME_ARGS])}",
              "--test_env=ARGS_GONE=1", "--test_env=ARGS_LIST=middle", "--test_env=EXPECT_ARGS_LIST_MIDDLE=middle",
              "//tree:hello_test", "//args:args_test", "//venv:app_test")

    log = workspace.test_log("//tree:hello_test")
    manifest_only = run_name == "noenable-local"
    expect_tree_output(log, ["embedded one", "two", *RUNTIME_ARGS], ...,
                       ... if manifest_only else None)
    if manifest_only:
        assert re.search(r"^RUNFILES_MANIFEST_FILE=/.*/tree/hello_test\.runfiles/MANIFEST$", log, re.MULTILINE), log

    log = workspace.test_log("//args:args_test")
    assert "args check ok" in log.splitlines(), log
    assert report(log)["argv"][-2:] == RUNTIME_ARGS

    log = workspace.test_log("//venv:app_test")
    assert "venv ok" in log.splitlines(), log
    assert report(log)["BAZEL_TARGET"] == "//venv:app_test"


# --- 3. bazel run ----------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
def test_bazel_run(workspace: Workspace, mode):
    """`bazel run` of launchers; with --noenable_runfiles, Bazel sets no RUNFILES_* variable."""
    out = workspace(mode, "run", *MODES[mode], "//tree:hello", "--", "three", "fo ur").output
    tail = out[out.index("greeting: "):]
    runfiles_dir = workspace.bazel_bin / "tree" / "hello.runfiles"
    expect_tree_output(tail, ["embedded one", "two", "three", "fo ur"], ...,
                       ... if mode == "noenable" else None)

    out = workspace(mode, "run", *MODES[mode], "//venv:app").output
    assert "venv ok" in out.splitlines(), out

    env = clean_env(EXPECT_RUNTIME_ARGS=json.dumps(["x"]))
    out = workspace(mode, "run", *MODES[mode], "//args:args_bin", "--", "x", env=env).output
    assert "args check ok" in out.splitlines(), out

    if mode == "default":
        out = workspace(mode, "run", "//genrule:hello", "--", "y").output
        assert "hello.sh: from a genrule y" in out.splitlines(), out
    assert runfiles_dir.is_dir()


# --- 4. other arches --------------------------------------------------------------------

def test_aarch64_launchers(workspace: Workspace):
    """The target platform's CPU picks the arch; a genrule and `arch = ...` pick it too."""
    if not shipped("aarch64"):
        pytest.skip("aarch64 launcher code is not shipped yet (tinylaunch.arch.aarch64)")

    workspace("cross", "build", "--platforms=//:linux_aarch64", "//tree:hello",
              "//genrule:hello_launcher_aarch64", "//tree:hello_x86_64")
    bazel_bin = workspace.bazel_bin
    for path, machine in ((bazel_bin / "tree" / "hello", EM_AARCH64),
                          (bazel_bin / "genrule" / "hello_launcher_aarch64.bin", EM_AARCH64),
                          (bazel_bin / "tree" / "hello_x86_64", EM_X86_64)):
        assert elf_machine(path) == machine, path
    # `tinylaunch inspect` of this checkout, now (another process: the code may be regenerated meanwhile).
    shown = subprocess.run(["python3", "-m", "tinylaunch.cli", "inspect", bazel_bin / "genrule" / "hello_launcher_aarch64.bin"],
                           env=clean_env(PYTHONPATH=str(REPO / "src")), capture_output=True, text=True, check=False)
    assert shown.returncode == 0, shown.stderr
    assert "arch: aarch64" in shown.stdout.splitlines()
    assert '"rlocation": "example/genrule/hello.sh"' in shown.stdout

    qemu = shutil.which("qemu-aarch64-static") or shutil.which("qemu-aarch64")
    require(qemu, "no qemu-aarch64-static to run the aarch64 launcher (apt-get install qemu-user-static)")
    hello = bazel_bin / "tree" / "hello"
    out = run([qemu, hello, "under qemu"], workspace.path.parent, bare_env())
    expect_tree_output(out, ["embedded one", "two", "under qemu"], Path(f"{hello}.runfiles"), None)


# --- 5. reproducible and cacheable --------------------------------------------------------

LAUNCHERS = ["tree/hello", "args/args_bin", "genrule/hello_launcher.bin"]


def test_reproducible_with_disk_cache(bazel, tmp_path):
    """Two clean builds (fresh output bases, workspaces at different paths) sharing a --disk_cache:
    the same launcher bytes, the second build's emit actions served from the cache."""
    disk_cache = tmp_path / "disk-cache"
    digests, logs = [], []
    for name in ("first", "second"):
        ws = Workspace(bazel, tmp_path / name)
        log = tmp_path / f"{name}.exec.json"
        ws("clean", "build", f"--disk_cache={disk_cache}", f"--execution_log_json_file={log}",
           "//tree:hello", "//args:args_bin", "//genrule:hello_launcher")
        digests.append({path: hashlib.sha256((ws.bazel_bin / path).read_bytes()).hexdigest()
                        for path in LAUNCHERS})
        logs.append(spawns(log))
        if name == "first":
            first_bin = ws.bazel_bin
    assert digests[0] == digests[1]

    emits = [s for s in logs[1] if s.get("mnemonic") in ("TinylaunchEmit", "Genrule")]
    assert len(emits) == 3, [s.get("mnemonic") for s in logs[1]]
    assert all(s.get("remoteCacheHit") for s in emits), emits
    assert not any(s.get("remoteCacheHit") for s in logs[0] if s.get("mnemonic") == "TinylaunchEmit")

    # The Bazel-emitted launcher is what the CLI of this checkout emits from the same spec.
    spec = first_bin / "args" / "args_bin.tinylaunch.json"
    out = tmp_path / "args_bin"
    env = clean_env(PYTHONPATH=str(REPO / "src"))
    subprocess.run(["python3", "-m", "tinylaunch.cli", "emit", "--arch", "x86_64", "-o", out, "--spec", spec],
                   check=True, env=env)
    assert hashlib.sha256(out.read_bytes()).hexdigest() == digests[0]["args/args_bin"]


def spawns(log: Path) -> list:
    """The spawns of an --execution_log_json_file (concatenated JSON objects)."""
    text, decoder, found, at = log.read_text(), json.JSONDecoder(), [], 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at == len(text):
            return found
        item, at = decoder.raw_decode(text, at)
        found.append(item)


# --- 6. the emit action's inputs ----------------------------------------------------------

def test_emit_action_reads_only_declared_inputs(workspace: Workspace):
    """The emit action's inputs are its spec file and the emitter (this checkout's Python sources,
    the py_binary stub): never the program, nothing installed by pip. Sandboxed, it could read nothing else."""
    workspace("default", "build", "//args:args_bin", "//tree:hello")
    out = workspace("default", "aquery", "mnemonic('TinylaunchEmit', //args:args_bin + //tree:hello)").output
    actions = re.findall(r"^  Inputs: \[(.*)\]$", out, re.MULTILINE)
    commands = re.findall(r"^  Command Line: \((.*?)\)$", out, re.MULTILINE | re.DOTALL)
    assert len(actions) == 2 and len(commands) == 2, out
    stubs = set()
    for inputs in actions:
        paths = inputs.split(", ")
        specs = [p for p in paths if p.endswith(".tinylaunch.json")]
        assert len(specs) == 1, paths
        for path in paths:
            if path in specs or re.match(r"external/tinylaunch/src/tinylaunch/.*\.py$", path) \
                    or path.startswith("external/bazel_tools/tools/python/") \
                    or re.match(r"bazel-out/[^/]+/internal/_middlemen/external_Stinylaunch_Stinylaunch-runfiles$", path):
                continue
            assert re.match(r"bazel-out/[^/]+/bin/external/tinylaunch/tinylaunch$", path), f"unexpected input {path}"
            stubs.add(path)
        assert any(p.endswith("src/tinylaunch/cli.py") for p in paths)
    for command in commands:
        assert re.search(r"\bemit\b.*--arch.*x86_64.*-o .*--spec .*\.tinylaunch\.json", " ".join(command.split())), command

    # The emitter's runfiles (the middleman above): the stub, Bazel's python wrapper, src/tinylaunch.
    assert len(stubs) == 1, stubs
    manifest = workspace.output_base("default") / "execroot" / "example" / f"{stubs.pop()}.runfiles_manifest"
    for line in manifest.read_text().splitlines():
        link = line.split(" ", 1)[0]
        link = link.removeprefix("example/external/")    # --legacy_external_runfiles duplicates
        assert (re.match(r"tinylaunch/src/tinylaunch/[a-z0-9_/]+\.py$", link) or link == "tinylaunch/tinylaunch"
                or link.startswith("bazel_tools/tools/python/")), f"the emitter's runfiles hold {link}"


# --- 7. mistakes ---------------------------------------------------------------------------

MISTAKES = {
    "//errors:joined": 'args[0]: "--file=$(rlocationpath :f.txt)": $(rlocationpath ...) must start the value',
    "//errors:not_in_data": "args[0]: :g.txt is not the program or in data",
    "//errors:not_a_tree": 'program_path "bin/hello": program //errors:f.txt is not a directory (a TreeArtifact)',
    "//errors:climbs_out": 'path inside errors/tree: "../hello" must be a normalised relative path',
    "//errors:plural_env": 'env["FILES"]: "$(rlocationpaths :f.txt)": $(rlocationpaths ...) is allowed only as a whole item',
    "//errors:bad_env_name": "tinylaunch: error: env[0].name: contains '='",
}


def test_mistakes_are_reported_and_launchers_fail_closed(workspace: Workspace, tmp_path):
    """Analysis names the attribute and value; the emitter's one-line error fails the action; a
    launcher whose program is missing from its tree exits 127 and executes nothing."""
    result = workspace("errors", "build", "--keep_going", *MISTAKES, "//errors:missing_in_tree", check=False)
    assert result.returncode != 0, result.output
    for label, message in MISTAKES.items():
        assert message in result.output, f"{label}: no {message!r} in:\n{result.output}"

    missing = workspace.bazel_bin / "errors" / "missing_in_tree"
    proc = subprocess.run([missing], cwd=tmp_path, env=bare_env(), capture_output=True, text=True, check=False)
    assert proc.returncode == 127, proc
    assert re.fullmatch(r"tinylaunch: exec /\S+/errors/tree/bin/missing: ENOENT\n", proc.stderr), proc.stderr
    assert proc.stdout == ""
