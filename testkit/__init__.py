"""Helpers shared by the test suites (tests/, emu_tests/, e2e/): what CI demands."""
from __future__ import annotations

import os
from collections import Counter
from typing import Callable, Iterable

import pytest


def on_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def require(condition: object, reason: str) -> None:
    """Skip the calling test unless ``condition``; under CI=true, fail instead: a tool the
    suite needs (qemu, Bazel, binutils, root) may be missing on a laptop, never on CI."""
    if condition:
        return
    if on_ci():
        pytest.fail(f"required on CI (CI=true): {reason}", pytrace=False)
    pytest.skip(reason)


class SuiteSummary:
    """One suite's closing line, `NAME: N passed, N failed, N skipped`, with each skip's
    reason and the suite's own notes; a session in which the suite ran tests but none
    passed is a failure (a runner that passes nothing proves nothing)."""

    def __init__(self, name: str, title: str, belongs: Callable[[str], bool]):
        self.name, self.title, self.belongs = name, title, belongs
        self.counts: Counter = Counter()
        self.skips: Counter = Counter()
        self.notes: list[str] = []
        self.figures: dict[str, str] = {}

    def note(self, line: str) -> None:
        """A line for the summary (sizes, host facts), once."""
        if line not in self.notes:
            self.notes.append(line)

    def figure(self, key: str, line: str) -> None:
        """A summary line that later calls with the same key replace (running totals)."""
        self.figures[key] = line

    def logreport(self, report) -> None:
        if not self.belongs(report.nodeid):
            return
        counts = self.counts
        if report.when == "call" or (report.when == "setup" and not report.passed):
            if hasattr(report, "wasxfail"):
                counts["xfailed" if report.skipped else "xpassed"] += 1
                if report.failed:        # a strict xpass
                    counts["failed"] += 1
            elif report.skipped:
                counts["skipped"] += 1
                longrepr = report.longrepr
                reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
                self.skips[reason.removeprefix("Skipped: ")] += 1
            elif report.failed:
                counts["failed" if report.when == "call" else "error"] += 1
            else:
                counts["passed"] += 1
        elif report.failed:              # teardown errors
            counts["error"] += 1

    def sessionfinish(self, session) -> None:
        if sum(self.counts.values()) and not self.counts["passed"] and session.exitstatus == 0:
            session.exitstatus = 1
            self.notes.append(f"nothing in the {self.title} passed: that is a failure")

    def terminal_summary(self, tr, trailer: Iterable[str] = ()) -> None:
        counts = self.counts
        if not sum(counts.values()):
            return
        line = (f"{self.name}: {counts['passed']} passed, {counts['failed'] + counts['error']} failed, "
                f"{counts['skipped']} skipped")
        if counts["xfailed"] or counts["xpassed"]:
            line += f" ({counts['xfailed']} xfailed, {counts['xpassed']} xpassed)"
        tr.write_sep("-", self.title)
        tr.write_line(line)
        for reason, n in sorted(self.skips.items()):
            tr.write_line(f"  skipped {n}x: {reason}")
        for extra in [*self.notes, *(self.figures[k] for k in sorted(self.figures)), *trailer]:
            tr.write_line(f"  {extra}")


def _short(value, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


def mismatch(want: dict, got: dict, entries: int = 6) -> str:
    """A compact diff of two launch outcomes (the model's and a launcher's; values can be
    megabytes): each differing field, and for lists the first differing entries."""
    lines = []
    for key in list(want) + [k for k in got if k not in want]:
        a, b = want.get(key, "<absent>"), got.get(key, "<absent>")
        if a == b:
            continue
        if isinstance(a, list) and isinstance(b, list):
            lines.append(f"{key}: model has {len(a)} entries, launcher {len(b)}")
            shown = 0
            for i in range(max(len(a), len(b))):
                x = a[i] if i < len(a) else "<none>"
                y = b[i] if i < len(b) else "<none>"
                if x != y:
                    lines.append(f"  [{i}] model    {_short(x)}")
                    lines.append(f"  [{i}] launcher {_short(y)}")
                    shown += 1
                    if shown >= entries:
                        lines.append("  ...")
                        break
        else:
            lines.append(f"{key}:\n  model    {_short(a, 2000)}\n  launcher {_short(b, 2000)}")
    return "\n".join(lines)
