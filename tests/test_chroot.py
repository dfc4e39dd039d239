"""Acceptance: a launcher works in a root with nothing else (SPEC R1, R10; distroless).

Scenarios from the table are placed in an empty directory with ROOT = "" (so
``@ROOT@/bin/app`` is ``/bin/app`` inside), holding only the launcher, the static probe
and the runfiles: no /proc, no /dev, no shell, no libc. A forked child chroots into it
and, from inside, asks the model (for the in-root paths), asks the kernel whether the
model's execve works, and runs the launcher; the parent compares, as test_native does.
"""
from __future__ import annotations

import os
import pickle
import subprocess
import traceback
from pathlib import Path

import pytest

import scenarios as S
from conftest import require
from test_native import Ran, build, expected, mismatch, observed

ARCH = "x86_64"

# Scenarios run in the empty root: the usual layouts, the C1 example, a relative
# AT_EXECFN (bazel run), tier 3, debug and failure output. They need nothing outside
# the world (no /dev/null target) and an environment subprocess can express (unique
# names, all with '=').
CHROOT_SCENARIOS = [
    "minimal", "env_i", "tier2_dir", "tier2_manifest_only", "tier2_MANIFEST_without_links",
    "bazel_run_shape", "tier3_runfile_of_other_binary", "treeartifact_manifest_only",
    "escaped_lines", "relative_chain", "debug_trace", "not_in_runfiles", "exec_eacces",
    "c1_example_both", "c1_example_manifest", "c1_example_dir", "c1_example_debug",
    "c1_example_bazel_run",
    # the working directory is "/" (no second '/' when making E absolute), RUNFILES_DIR=/
    "tier2_relative_execfn_subdir", "tier1_dir_is_root",
]


@pytest.fixture(scope="session")
def can_chroot(tmp_path_factory) -> None:
    require(os.geteuid() == 0, "chroot needs root (run as root, e.g. in the CI container)")
    empty = tmp_path_factory.mktemp("chroot-probe")
    pid = os.fork()
    if pid == 0:
        try:
            os.chroot(empty)
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    require(os.waitstatus_to_exitcode(status) == 0, "chroot(2) is not permitted here (no CAP_SYS_CHROOT)")


def _env(entries: list[bytes]) -> dict[bytes, bytes]:
    env = {}
    for entry in entries:
        name, eq, value = entry.partition(b"=")
        assert eq and name not in env, f"not expressible for subprocess: {entry!r}"
        env[name] = value
    return env


def _inside(root: Path, setup) -> dict:
    """In a forked child: chroot, then model + kernel trial + launcher run."""
    rd, wr = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(rd)
            os.chroot(root)
            cwd = "/" + os.path.relpath(setup.cwd, root).removeprefix(".")
            os.chdir(cwd)
            getcwd = os.fsencode(os.path.normpath(cwd))

            def trial(ex):
                try:
                    subprocess.run(ex.argv, executable=ex.file, env=_env(ex.envp), capture_output=True,
                                   timeout=60)
                except OSError as e:
                    return e.errno
                return None

            want = expected(setup, getcwd, trial)
            proc = subprocess.run(setup.argv, executable=setup.execfn, env=_env(setup.envp),
                                  capture_output=True, timeout=60)
            got = observed(Ran(proc.returncode, proc.stdout, proc.stderr))
            result = {"want": want, "got": got}
        except BaseException:
            result = {"error": traceback.format_exc()}
        with os.fdopen(wr, "wb") as f:
            pickle.dump(result, f)
        os._exit(0)
    os.close(wr)
    with os.fdopen(rd, "rb") as f:
        data = f.read()
    os.waitpid(pid, 0)
    return pickle.loads(data)


def _contents(root: Path) -> set[str]:
    return {os.path.relpath(os.path.join(d, n), root) for d, dirs, files in os.walk(root) for n in dirs + files}


@pytest.mark.parametrize("name", CHROOT_SCENARIOS)
def test_in_empty_root(name, tmp_path, probe, filler, can_chroot):
    sc = S.BY_NAME[name]
    assert "chroot" not in sc.cannot
    from tinylaunch import model  # noqa: F401  (imported before the chroot: nothing to load inside)
    root = tmp_path / "root"
    setup = build(sc, ARCH, root, probe, filler, root="")
    everything = _contents(root)
    assert not {"proc", "dev", "etc", "lib", "lib64", "usr", "bin/sh"} & everything, sorted(everything)
    result = _inside(root, setup)
    assert "error" not in result, result.get("error")
    if result["got"] != result["want"]:
        pytest.fail(f"launcher differs from the model in an empty root ({name}):\n"
                    f"{mismatch(result['want'], result['got'])}", pytrace=False)
