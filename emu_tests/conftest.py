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
from collections import Counter

import pytest
from hypothesis import HealthCheck, settings

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

_counts: Counter = Counter()
_skips: Counter = Counter()
_notes: list = []
_figures: dict = {}


def note(line: str) -> None:
    """A line for the suite's terminal summary."""
    if line not in _notes:
        _notes.append(line)


def figure(key: str, line: str) -> None:
    """A summary line that later calls with the same key replace (running totals)."""
    _figures[key] = line


def _in_suite(nodeid: str) -> bool:
    return nodeid.split("/", 1)[0] == _DIR


def pytest_runtest_logreport(report):
    if not _in_suite(report.nodeid):
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        if hasattr(report, "wasxfail"):
            _counts["xfailed" if report.skipped else "xpassed"] += 1
            if report.failed:
                _counts["failed"] += 1
        elif report.skipped:
            _counts["skipped"] += 1
            longrepr = report.longrepr
            reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
            _skips[reason.removeprefix("Skipped: ")] += 1
        elif report.failed:
            _counts["failed" if report.when == "call" else "error"] += 1
        else:
            _counts["passed"] += 1
    elif report.failed:
        _counts["error"] += 1


def pytest_sessionfinish(session, exitstatus):
    if sum(_counts.values()) and not _counts["passed"] and session.exitstatus == 0:
        session.exitstatus = 1
        _notes.append("nothing in the emulator suite passed: that is a failure")


def pytest_terminal_summary(terminalreporter):
    if not sum(_counts.values()):
        return
    tr = terminalreporter
    line = (f"{SUITE}: {_counts['passed']} passed, {_counts['failed'] + _counts['error']} failed, "
            f"{_counts['skipped']} skipped")
    if _counts["xfailed"] or _counts["xpassed"]:
        line += f" ({_counts['xfailed']} xfailed, {_counts['xpassed']} xpassed)"
    tr.write_sep("-", "emulator (unicorn) suite")
    tr.write_line(line)
    for reason, n in sorted(_skips.items()):
        tr.write_line(f"  skipped {n}x: {reason}")
    for extra in _notes + [_figures[k] for k in sorted(_figures)]:
        tr.write_line(f"  {extra}")
    tr.write_line(f"  emulation seed {SESSION_SEED} (replay: TINYLAUNCH_EMU_SEED={SESSION_SEED}); "
                  f"hypothesis profile {FUZZ_PROFILE}")


@pytest.fixture
def emu_note():
    return note
