"""Shared fixtures of the native scenario suite (test_native.py, test_chroot.py).

- ``require(condition, reason)``: skip when the host cannot run a test, except under
  ``CI=true`` where such a skip is a failure (CI must run everything).
- Session-built static helpers: ``probe`` (tests/probe.c, the program launchers exec)
  and ``spawn`` (tests/spawn.c, execve with any argv/envp/file, for argc == 0,
  duplicate or '='-less environment entries, and asking the kernel what execve does).
- ``filler``: the generated part of big manifests, written once per session.
- A terminal summary line for the suite: ``native: N passed, N failed, N skipped``,
  with every skip's reason; a run of the suite where nothing passed is a failure.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from testkit import SuiteSummary, require  # noqa: F401  (require: re-exported to the suite)

TESTS = Path(__file__).resolve().parent
for _p in (TESTS.parent / "src", TESTS):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from worlds import filler_bytes  # noqa: E402

SUITE_FILES = ("test_native.py", "test_chroot.py")
SUITE = "native"




# --- static helpers, built once ---------------------------------------------------

def _build(src: Path, out: Path) -> Path:
    cc = shutil.which("gcc") or shutil.which("cc")
    require(cc, "no C compiler (gcc) to build the static test helpers")
    proc = subprocess.run([cc, "-static", "-O2", "-Wall", "-o", str(out), str(src)],
                          capture_output=True, text=True)
    require(proc.returncode == 0,
            f"cannot build a static {src.name} (is the static libc installed?): {proc.stderr.strip()[-400:]}")
    return out


@pytest.fixture(scope="session")
def helpers_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("native-helpers")


@pytest.fixture(scope="session")
def probe(helpers_dir) -> Path:
    return _build(TESTS / "probe.c", helpers_dir / "probe")


@pytest.fixture(scope="session")
def spawn(helpers_dir) -> Path:
    return _build(TESTS / "spawn.c", helpers_dir / "spawn")


@pytest.fixture(scope="session")
def filler(helpers_dir):
    """``filler(size) -> Path``: a file of ``filler_bytes(size)``, written once."""
    made: dict[int, Path] = {}

    def get(size: int) -> Path:
        if size not in made:
            path = helpers_dir / f"filler-{size}"
            path.write_bytes(filler_bytes(size))
            filler_bytes.cache_clear()        # the file is the cache now
            made[size] = path
        return made[size]
    return get


# --- the suite's summary -----------------------------------------------------------

SUMMARY = SuiteSummary(SUITE, f"{SUITE} scenario suite",
                       lambda nodeid: nodeid.split("::", 1)[0].rsplit("/", 1)[-1] in SUITE_FILES)
note = SUMMARY.note


def pytest_runtest_logreport(report):
    SUMMARY.logreport(report)


def pytest_sessionfinish(session, exitstatus):
    SUMMARY.sessionfinish(session)


def pytest_terminal_summary(terminalreporter):
    SUMMARY.terminal_summary(terminalreporter)
