"""The emulator suite's pytest plumbing.

- Hypothesis profiles ``emu-ci`` (the default: 300 examples per arch and property) and
  ``emu-deep`` (``TINYLAUNCH_FUZZ=deep``: 5,000), without deadlines (an emulated run's
  time varies with the host). ``FUZZ_SETTINGS`` is applied to the fuzz tests only: loading
  a profile globally would change the native suite's own hypothesis tests.
- ``note(line)``, ``figure(key, line)``: lines for the terminal summary (figures,
  fault-injection totals; a figure is replaced by later calls with its key).
- The summary line ``emu: N passed, N failed, N skipped`` for the tests under
  emu_tests/, each skip's reason, the session's emulation seed; a session where nothing
  here passed is a failure.
"""
from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from testkit import SuiteSummary

from .harness import SESSION_SEED

SUITE = "emu"
_DIR = os.path.basename(os.path.dirname(os.path.abspath(__file__)))

FUZZ_PROFILE = os.environ.get("TINYLAUNCH_FUZZ", "ci") or "ci"
_common = dict(deadline=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                      HealthCheck.filter_too_much])
settings.register_profile("emu-ci", max_examples=300, **_common)
settings.register_profile("emu-deep", max_examples=5000, **_common)
if FUZZ_PROFILE not in ("ci", "deep"):
    raise pytest.UsageError(f"TINYLAUNCH_FUZZ={FUZZ_PROFILE!r}: expected ci or deep")
FUZZ_SETTINGS = settings.get_profile("emu-" + FUZZ_PROFILE)

SUMMARY = SuiteSummary(SUITE, "emulator (unicorn) suite",
                       lambda nodeid: nodeid.split("/", 1)[0] == _DIR)
note, figure = SUMMARY.note, SUMMARY.figure


def pytest_runtest_logreport(report):
    SUMMARY.logreport(report)


def pytest_sessionfinish(session, exitstatus):
    SUMMARY.sessionfinish(session)


def pytest_terminal_summary(terminalreporter):
    SUMMARY.terminal_summary(terminalreporter, trailer=[
        f"emulation seed {SESSION_SEED} (replay: TINYLAUNCH_EMU_SEED={SESSION_SEED}); "
        f"hypothesis profile {FUZZ_PROFILE}"])


@pytest.fixture
def emu_note():
    return note
