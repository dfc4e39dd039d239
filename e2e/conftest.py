"""Fixtures and the summary of the e2e suite; the harness itself is bazel_harness.py."""
from __future__ import annotations

import shutil

import pytest
from e2e.bazel_harness import DEBIAN_PLATFORMS, Bazel, Workspace, calls, require, timings

# --- fixtures -------------------------------------------------------------------------

@pytest.fixture(scope="session")
def bazel(tmp_path_factory) -> Bazel:
    binary = shutil.which("bazel")
    require(binary, "no bazel on PATH (apt-get install bazel-bootstrap bazel-platforms)")
    require(DEBIAN_PLATFORMS.is_dir(), f"no {DEBIAN_PLATFORMS} (apt-get install bazel-platforms)")
    return Bazel(binary, tmp_path_factory.mktemp("bazel-user-root"))


@pytest.fixture(scope="session")
def workspace(bazel, tmp_path_factory) -> Workspace:
    """The example workspace shared by the suite's cases (each mode in its own output base)."""
    return Workspace(bazel, tmp_path_factory.mktemp("ws"))


# --- summary ---------------------------------------------------------------------------

def pytest_terminal_summary(terminalreporter):
    if not timings:
        return
    tr = terminalreporter
    tr.write_sep("-", "e2e: time in Bazel per test")
    for test, seconds in timings.items():
        tr.write_line(f"{seconds:7.1f} s  {calls[test]:2d} bazel calls  {test}")
    tr.write_line(f"{sum(timings.values()):7.1f} s  {sum(calls.values()):2d} bazel calls  total")
