"""The emulated kernel against the real one: ``strace -f`` of the native x86_64 launcher
versus the emulator's own log, scenario by scenario.

Each scenario's world is placed on disk under a temp dir and, under the same absolute
root, in memory. The launcher runs natively, started by tests/spawn.c (exact argv, envp
and AT_EXECFN) under strace, and under the emulator. The system calls must be the same:
the same names in the same order, the same path arguments, the same failures (errno) or
successes, the same getcwd and write lengths. Since the launcher's code is deterministic,
a difference means the emulated kernel answered differently from Linux.

Runs only where it can: an x86_64 host with strace and a static libc (it builds
tests/spawn.c and tests/probe.c). Scenarios without a native run (``cannot["native"]``),
or with multi-MiB manifests, or with an RLIMIT_DATA, are left out, and so are those
that can't run under unicorn.
"""
from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import scenarios as S
from tinylaunch import emit
from worlds import materialise, subst

from .harness import launch, not_shipped, scenario_case

TESTS = Path(__file__).resolve().parent.parent / "tests"
LINE = re.compile(r"^(\d+)\s+(\w+)\((.*)\)\s+= (-?\d+|0x[0-9a-f]+|\?)(?: (E\w+))?")
STRING = re.compile(r'"((?:\\x[0-9a-f]{2})*)"')


@pytest.fixture(scope="module")
def native_tools(tmp_path_factory):
    if platform.machine() != "x86_64":
        pytest.skip(f"needs an x86_64 host, this is {platform.machine()}")
    if not shutil.which("strace"):
        pytest.skip("strace is not installed")
    if not_shipped("x86_64"):
        pytest.skip(f"x86_64: {not_shipped('x86_64')}")
    cc = shutil.which("gcc") or shutil.which("cc")
    if not cc:
        pytest.skip("no C compiler for tests/spawn.c")
    d = tmp_path_factory.mktemp("strace-tools")
    out = {}
    for name in ("spawn", "probe"):
        proc = subprocess.run([cc, "-static", "-O2", "-o", str(d / name), str(TESTS / f"{name}.c")],
                              capture_output=True, text=True)
        if proc.returncode:
            pytest.skip(f"cannot build a static {name}: {proc.stderr.strip()[-200:]}")
        out[name] = d / name
    probe = subprocess.run(["strace", "-f", "-o", "/dev/null", "true"], capture_output=True)
    if probe.returncode:
        pytest.skip(f"strace cannot trace here: {probe.stderr.decode(errors='replace').strip()[-200:]}")
    return out


def native_calls(log: str, launcher: bytes):
    """(name, path, outcome) of each system call the launcher made: from its own execve
    to the execve it makes or the exit_group it ends with."""
    calls, pid = [], None
    for line in log.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        who, name, args, result, err = m.groups()
        strings = [bytes.fromhex(s.replace("\\x", "")) for s in STRING.findall(args)]
        if pid is None:
            if name == "execve" and strings and strings[0] == launcher and result == "0":
                pid = who
            continue
        if who != pid:
            continue
        calls.append(summarise(name, strings[0] if name in ("openat", "newfstatat", "execve") and strings else None,
                               err or result))
        if name == "exit_group" or (name == "execve" and result == "0"):
            break
    return calls


def summarise(name, path, outcome):
    """A call as both sides can say it: the result's value only where it is not an
    address or a descriptor."""
    if isinstance(outcome, int):
        outcome = f"E{outcome}" if outcome < 0 else str(outcome)
    if not outcome.startswith("E"):
        outcome = outcome if name in ("getcwd", "writev", "write") else "ok"
    return name, path, outcome


def emulated_calls(out):
    import errno as E
    calls = []
    for c in out.calls:
        r = c.result
        if c.name in ("execve", "exit_group") and c is out.calls[-1] and out.stop is not None:
            outcome = "ok" if c.name == "exit_group" or out.stop.kind == "exec" else E.errorcode[-r]
        elif r is not None and -4095 <= r < 0:
            outcome = E.errorcode[-r]
        else:
            outcome = r
        calls.append(summarise(c.name, c.path, outcome))
    return calls


def _eligible():
    out = []
    for sc in S.SCENARIOS:
        big = any(getattr(n, "filler", 0) or len(getattr(n, "data", b"")) > (1 << 20) for n in sc.world)
        if "native" in sc.cannot or "unicorn" in sc.cannot or big or sc.data_limit:
            continue
        out.append(pytest.param(sc, id=sc.name))
    return out


def request_bytes(file: bytes, argv, envp, rmdir: bytes = b"") -> bytes:
    """tests/spawn.c's request: rmdir, file, argc, argv..., envc, envp..."""
    parts = [rmdir, file, b"%d" % len(argv), *argv, b"%d" % len(envp), *envp]
    return b"".join(p + b"\0" for p in parts)


@pytest.mark.parametrize("sc", _eligible())
def test_syscalls_match_strace(sc, native_tools, tmp_path):
    base = tmp_path / "w"
    base.mkdir()
    root = os.path.realpath(base)
    spec = S.instantiate(sc.spec, root)
    blob = emit(spec, "x86_64")
    materialise(sc.world, base, root, blob, native_tools["probe"], lambda size: None)
    cwd = base / sc.cwd
    case = scenario_case(sc, "x86_64", root=root, blob=blob)
    execfn = case.execfn
    (tmp_path / "request").write_bytes(request_bytes(execfn, case.argv, case.envp,
                                                     os.fsencode(cwd) if sc.cwd_deleted else b""))
    log = tmp_path / "strace"
    subprocess.run(["strace", "-f", "-qq", "-xx", "-s", "8192", "-o", str(log), str(native_tools["spawn"]),
                    str(tmp_path / "request")], cwd=cwd, env={}, capture_output=True, timeout=60)
    launcher = os.fsencode(subst(sc.execfn, root))
    native = native_calls(log.read_text(errors="replace"), launcher)
    assert native, f"no launcher system calls in the strace log:\n{log.read_text()[-2000:]}"
    emulated = emulated_calls(launch(case))
    assert emulated == native, "\n".join(
        f"{'  ' if a == b else '!!'} emulated {a}\n   native   {b}" for a, b in
        zip(emulated + [None] * (len(native) - len(emulated)), native + [None] * (len(emulated) - len(native))))
