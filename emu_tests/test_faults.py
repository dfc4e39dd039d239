"""Fault injection: every system call a launcher makes, failing in every way it can.

For each scenario in ``SCENARIOS`` and each shipped arch, the launcher first runs
fault-free (it must match the model: test_table.py's check). Then it runs once more per
system call it made, with that call (the n-th of the run, counted as the fault-free run
counts them) failing with each errno in ``ERRNOS[name]``: the errnos of the issue
(ENOENT EACCES ENOTDIR ELOOP ENOMEM EIO EINTR) that the call's man page lists, and EINTR
for every call (the launchers' ``sys`` wrapper retries any call). Writes also return
short counts (1 byte, half); and one run per scenario has every write, one has every
read, move a single byte.

What is checked is exact, not just "fails closed". The fault-free run fixes everything
up to the injected call, so the outcome each fault must give is known:

- EINTR: the call is retried; the outcome is the fault-free one, byte for byte.
- execve fails with E: ``model.exec_failure(file, E, trace)`` - the R8 message and status.
- an anonymous mmap (the heap) fails with E: exit 125 with ``tinylaunch: mmap: <E>``
  after whatever trace lines were written before the call.
- getcwd fails with E: exit 125 with ``tinylaunch: getcwd: <E>`` (always fatal).
- a write fails or is short: the same execve or exit status; on fd 2 that one write's
  bytes are missing or cut at the short count (or whole: a launcher may retry).
- a filesystem call on a path X fails with E (newfstatat, openat; mmap of a file opened
  as X): the launcher may legitimately choose another tier, another source, or no
  runfiles at all - a failed stat during discovery is "not a source". The checkable
  property: the outcome equals the fault-free one, or the model's outcome over the same
  world in which the corresponding filesystem operation fails with E: the k-th
  ``stat_mode(X)`` raises E, or the k-th ``open_regular(X)`` finds nothing, or its
  ``read()`` raises E (for each k up to the model's own count of such calls, plus one).
  So an execve of a file the model would not pick in that faulted world - "executing
  something else" - fails the test, as does any other message or status.

Every run must also end cleanly: execve or exit_group, no crash, no bad pointer, no
unexpected system call. The suite summary gets one line per arch: runs, survived.
"""
from __future__ import annotations

import errno as E
import os
from collections import Counter
from typing import List, Optional

import pytest

import scenarios as S
from tinylaunch import model

from .conftest import figure
from .harness import (Case, arch_params, as_dict, expected, known, launch, mismatch, model_result,
                      pending, scenario_case)
from .memfs import ModelFS
from .syscalls import Call, Fault

PATH_ERRNOS = (E.ENOENT, E.EACCES, E.ENOTDIR, E.ELOOP, E.ENOMEM, E.EIO, E.EINTR)
ERRNOS = {
    "openat": PATH_ERRNOS, "newfstatat": PATH_ERRNOS, "execve": PATH_ERRNOS,
    "getcwd": (E.ENOENT, E.EACCES, E.ENOMEM, E.EIO, E.EINTR),
    "mmap": (E.EACCES, E.ENOMEM, E.EINTR),
    "writev": (E.EIO, E.EINTR), "write": (E.EIO, E.EINTR), "read": (E.EIO, E.EINTR),
    "fstat": (E.ENOMEM, E.EIO, E.EINTR), "close": (E.EIO, E.EINTR),
    "munmap": (E.ENOMEM, E.EINTR), "madvise": (E.ENOMEM, E.EINTR),
    "exit_group": (),
}
WRITES = ("writev", "write")

# Scenarios covering every tier and source kind, relative sources (getcwd), the manifest
# (prefixes, escapes, relative chains), env ops, the debug trace, execve failures and the
# failure paths (R8).
SCENARIOS = (
    "minimal", "tier2_manifest_only", "tier1_relative_paths", "tier1_both_manifest_used", "tier3_manifest_used",
    "tier3_relative_execfn", "relative_chain", "treeartifact_manifest_only", "escaped_lines", "env_ops",
    "debug_trace", "debug_trace_hops", "debug_trace_failure", "c1_example_both", "c1_example_bazel_run",
    "exec_eacces", "dir_stat_eloop_is_fatal", "no_runfiles", "tier1_manifest_other_name", "argc0",
)
TOTALS: Counter = Counter()


class BrokenFile:
    def __init__(self, err: int):
        self.err = err

    def read(self):
        raise OSError(self.err, os.strerror(self.err))

    def close(self):
        pass


class FaultyFS:
    """The model's filesystem with the k-th ``op`` on ``key`` failing with ``err``
    (``op``: stat - stat_mode raises; open - open_regular finds nothing; read - the
    handle's read raises). With ``err`` None it only counts calls per (op, path)."""

    def __init__(self, base: ModelFS, op: Optional[str] = None, key: Optional[bytes] = None,
                 k: int = 0, err: Optional[int] = None):
        self.base, self.op, self.key, self.k, self.err = base, op, key, k, err
        self.counts: Counter = Counter()

    def _hit(self, op: str, path: bytes) -> bool:
        self.counts[(op, path)] += 1
        return self.err is not None and self.op == op and self.key == path and self.counts[(op, path)] == self.k

    def stat_mode(self, path):
        if self._hit("stat", path):
            raise OSError(self.err, os.strerror(self.err), path)
        return self.base.stat_mode(path)

    def open_regular(self, path):
        self.counts[("read", path)] += 0
        if self._hit("open", path):
            return None
        if self.err is not None and self.op == "read" and self.key == path and self.counts[("open", path)] == self.k:
            return BrokenFile(self.err)
        return self.base.open_regular(path)


def fs_key(path: Optional[bytes], cwd) -> Optional[bytes]:
    """The path the model's filesystem sees for a launcher's path argument."""
    if path is None:
        return None
    if path.startswith(b"/") or isinstance(cwd, int) or not path:
        return path
    return cwd + path if cwd.endswith(b"/") else cwd + b"/" + path


def written_before(calls: List[Call], index: int) -> int:
    """Bytes the fault-free run wrote to fd 2 before call ``index``."""
    return sum(c.result for c in calls[:index] if c.name in WRITES and c.args[0] == 2 and c.result > 0)


class Injector:
    """An on_enter hook failing call number ``index`` once."""

    def __init__(self, index: int, fault: Fault):
        self.index, self.fault = index, fault
        self.call: Optional[Call] = None

    def __call__(self, kernel, call: Call) -> Optional[Fault]:
        if call.index == self.index:
            self.call = call
            return self.fault
        return None


def candidates(case: Case, base: dict, calls: List[Call], call: Call, fault: Fault, counts: Counter) -> List[dict]:
    """Every outcome the launcher may show with ``fault`` on ``call`` (module docstring)."""
    stderr = base["stderr"]
    before = written_before(calls, call.index)
    err = fault.errno
    if err == E.EINTR:
        return [base]
    name = call.name
    if name in WRITES:
        size = call.result if call.result and call.result > 0 else 0
        keep = 0 if err is not None else min(fault.short, size)
        return [dict(base, stderr=stderr[:before + keep] + stderr[before + size:]), base]
    if name == "execve":
        return [as_dict(model.exec_failure(call.path, err, stderr[:before]))]
    line = lambda what: {"status": 125, "stderr": stderr[:before] + b"tinylaunch: " + what + b": "
                         + model.errno_text(err) + b"\n", "probe ran": False}
    if name == "getcwd":
        return [line(b"getcwd")]
    if name == "mmap" and call.fd_path is None:
        return [line(b"mmap")]
    if not call.path and name != "mmap":
        # An empty path (an empty RUNFILES_DIR, say), or a NULL one (a known finding): the
        # model never looks such a path up, the kernel can only fail it; any errno is as good.
        return [base]
    key = fs_key(call.fd_path if name == "mmap" else call.path, case.fs.getcwd())
    out = []
    ops = ("read",) if name == "mmap" else ("open",) if name == "openat" else ("stat", "open")
    for op in ops:
        for k in range(1, counts[("open" if op == "read" else op, key)] + 1):
            out.append(as_dict(model_result(case, FaultyFS(ModelFS(case.fs), op, key, k, err))))
    return out


def clean_end(got: dict) -> Optional[str]:
    """Why a run did not end cleanly (R8), or None."""
    if "crash" in got:
        return got["crash"]
    if "file" not in got:
        if got["status"] not in (125, 126, 127):
            return f"exit status {got['status']} is not an R8 status"
    return None


def run_faults(case: Case, arch: str):
    """All fault runs of one case: (runs, runs whose outcome the fault changed, failures)."""
    tolerate = known(arch)
    want = expected(case)
    base_run = launch(case, tolerate=tolerate)
    base = base_run.observed()
    if base != want:
        pytest.fail(f"fault-free run differs from the model:\n{mismatch(want, base)}\n{base_run.tail()}", pytrace=False)
    calls = base_run.calls
    counter = FaultyFS(ModelFS(case.fs))
    model_result(case, counter)
    plans = []
    for call in calls:
        plans += [(call, Fault(errno=err)) for err in ERRNOS[call.name]]
        if call.name in WRITES and call.result and call.result > 1:
            plans += [(call, Fault(short=short)) for short in sorted({1, call.result // 2})]
    runs, changed, failures = 0, 0, []
    for call, fault in plans:
        inject = Injector(call.index, fault)
        out = launch(case, on_enter=[inject], tolerate=tolerate, keep_log=False, timeout=10.0)
        runs += 1
        got = out.observed()
        what = f"call {call.index} {call.name}({(call.path or call.fd_path or b'').decode('latin-1')[-60:]}) {fault.describe()}"
        if inject.call is None or inject.call.name != call.name or inject.call.path != call.path:
            failures.append(f"{what}: the run diverged before the injected call")
            continue
        problem = clean_end(got)
        if problem is None:
            options = candidates(case, base, calls, call, fault, counter.counts)
            if not options:
                problem = "the launcher made a filesystem call on a path the model never looks at"
            elif got not in options:
                problem = "outcome is none of the expected ones:\n" + mismatch(options[0], got)
        changed += got != base
        if problem:
            detail = launch(case, on_enter=[Injector(call.index, fault)], tolerate=tolerate, timeout=10.0)
            failures.append(f"{what}: {problem}\n{detail.tail(12)}")
    # Whole-run modes: every write, every read, moves one byte.
    writes = [c for c in calls if c.name in WRITES and c.args[0] == 2 and c.result]
    for mode in ("short_writes", "short_reads"):
        out = launch(case, tolerate=tolerate, keep_log=False, timeout=10.0, **{mode: True})
        runs += 1
        got = out.observed()
        options = [base]
        if mode == "short_writes":
            options.append(dict(base, stderr=b"".join(base["stderr"][written_before(calls, c.index):][:1] for c in writes)))
        problem = clean_end(got) or (None if got in options else "outcome differs:\n" + mismatch(base, got))
        if problem:
            failures.append(f"{mode}: {problem}")
    return runs, changed, failures


def _params():
    out = []
    for p in arch_params():
        for name in SCENARIOS:
            out.append(pytest.param(p.values[0], name, id=f"{p.values[0]}-{name}", marks=p.marks))
    return out


@pytest.mark.parametrize("arch,name", _params())
def test_faults(arch, name):
    sc = S.BY_NAME[name]
    assert "unicorn" not in sc.cannot
    runs, changed, failures = run_faults(scenario_case(sc, arch), arch)
    TOTALS[(arch, "runs")] += runs
    TOTALS[(arch, "changed")] += changed
    TOTALS[(arch, "survived")] += runs - len(failures)
    TOTALS[(arch, "scenarios")] += 1
    note_totals()
    assert not failures, f"{len(failures)} of {runs} fault runs failed:\n\n" + "\n\n".join(failures[:8])


def note_totals():
    for arch in sorted({a for a, _ in TOTALS}):
        figure(f"faults {arch}", f"faults {arch}: {TOTALS[(arch, 'runs')]} runs over "
                                 f"{TOTALS[(arch, 'scenarios')]} scenarios, {TOTALS[(arch, 'survived')]} survived "
                                 f"({TOTALS[(arch, 'changed')]} changed the outcome as expected)")


# --- every errno, by name or by number -----------------------------------------------------

ALL_ERRNOS = [e for e in range(1, 134) if e != E.EINTR] + [4095]     # Linux's errnos, and MAX_ERRNO


def _errno_params():
    return [pytest.param(p.values[0], id=p.values[0], marks=list(p.marks) + pending(p.values[0], "errno_names"))
            for p in arch_params()]


@pytest.mark.parametrize("arch", _errno_params())
def test_every_errno(arch):
    """R8: an execve failure and a fatal stat failure with each errno Linux has (and
    MAX_ERRNO) give the model's message - the name for the common ones, else
    ``errno N`` - and status."""
    case = scenario_case(S.BY_NAME["minimal"], arch)
    base = launch(case)
    execve = next(c for c in base.calls if c.name == "execve")
    stat = next(c for c in base.calls if c.name == "newfstatat" and c.path.endswith(b"/_main/app/prog"))
    wrong = []
    for call in (execve, stat):
        for err in ALL_ERRNOS:
            if call is stat and err in (E.ENOENT, E.ENOTDIR):
                continue                   # not fatal: the manifest is asked next
            got = launch(case, on_enter=[Injector(call.index, Fault(errno=err))], keep_log=False).observed()
            if call is execve:
                want = as_dict(model.exec_failure(call.path, err, b""))
            else:
                want = as_dict(model.Failure(125, b"tinylaunch: stat " + call.path + b": " + model.errno_text(err) + b"\n"))
            if got != want:
                wrong.append(f"{call.name} {err}: {got.get('status')} {got.get('stderr')!r}")
    assert not wrong, f"{len(wrong)} errnos reported wrongly:\n" + "\n".join(wrong[:40])
