"""From a scenario (tests/scenarios.py) or a generated case to a verdict: build the
in-memory world, emit the launcher, ask the model what must happen, run the launcher
under emulation, compare.

The expected outcome comes from ``tinylaunch.model.run`` over the same in-memory tree
(``memfs.ModelFS``), and for the final execve from the emulated kernel's own answer
(``syscalls.execve_errno``) - as the native runner asks the host kernel. Paths inside
a world are placed under ``ROOT``.
"""
from __future__ import annotations

import os
import zlib
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import List, Optional

import pytest

from testkit import mismatch
from tinylaunch import EmitError, emit, features, model
from tinylaunch.abi import ARCHES
from tinylaunch.emit import shipped_code
from tinylaunch.spec import Spec

from . import emulator
from .memfs import MemFS, ModelFS, build_fs
from .syscalls import execve_errno

ROOT = "/work/world"            # where ROOT (@ROOT@) of a world lands in the in-memory tree
# What a Probe node holds: enough of an ELF header for the emulated execve to accept it.
PROBE = b"\x7fELF\x02\x01\x01" + bytes(9) + b"tinylaunch emulated probe\n"
ARCH_NAMES = tuple(ARCHES)

# Launcher problems the emulator found and that are not fixed yet, per arch:
# finding -> exact text. The tests that show each one are xfail(strict=True) - a fix
# turns them into XPASS failures until the entry is removed - and while an entry is here
# the fuzzer and the fault injector steer clear of (or tolerate) exactly that problem so
# it does not hide others. Removing the entry removes both.
FINDINGS: dict = {"x86_64": {}, "aarch64": {}}
# Scenarios of tests/scenarios.py that show a finding: arch -> scenario -> finding.
EMU_PENDING: dict = {"x86_64": {}, "aarch64": {}}
# Found here and fixed since:
# - aarch64 "null_path": export_manifest_only called newfstatat(AT_FDCWD, NULL, ...) when a
#   manifest-only source gave no directory (tier1_manifest_other_name); fixed in df58563.
# - x86_64 "errno_names": fail_errno's `repne scasb` over the errno table matched letters of
#   the names (errnos 50, 65-69, 71, 73, 76-80, 82-84, 88, 89 printed 'NOENT', 'CCES', '' ...
#   instead of 'errno N'; test_faults.test_every_errno); fixed in fc72ea9.
# - x86_64 "nul_target": a manifest target holding a NUL was decoded whole instead of ending
#   at the NUL (test_findings.py; the fuzzer found it too); fixed in fc72ea9.


def known(arch: str) -> tuple:
    """The pending findings of ``arch`` (see FINDINGS)."""
    return tuple(sorted(FINDINGS.get(arch, {})))


def pending(arch: str, finding: str) -> list:
    """pytest marks for a test that shows ``finding``: xfail(strict=True) while pending."""
    text = FINDINGS.get(arch, {}).get(finding)
    return [pytest.mark.xfail(strict=True, raises=(AssertionError, pytest.fail.Exception),
                              reason=f"launcher ({arch}): {text}")] if text else []

# One seed per session (printed in the summary), mixed with each run's name: addresses
# and AT_RANDOM differ between sessions, and a failure replays with TINYLAUNCH_EMU_SEED.
SESSION_SEED = int(os.environ.get("TINYLAUNCH_EMU_SEED") or int.from_bytes(os.urandom(4), "little"))


def seed_for(name: str) -> int:
    return zlib.crc32(name.encode("utf-8", "surrogateescape"), SESSION_SEED)


@lru_cache(maxsize=None)
def not_shipped(arch: str) -> Optional[str]:
    """Why ``arch`` cannot be emulated in this checkout, or None."""
    try:
        shipped_code(arch)
    except EmitError as e:
        return str(e)
    return None


def arch_params() -> list:
    """pytest params for every arch; an arch without shipped code is skipped, named."""
    return [pytest.param(arch, id=arch, marks=[pytest.mark.skip(reason=f"{arch}: {not_shipped(arch)}")]
                         if not_shipped(arch) else []) for arch in ARCH_NAMES]


def text_size(arch: str, spec: Optional[Spec] = None) -> int:
    """Bytes of machine code in the launcher of spec (default: SPEC C1's variant)."""
    return len(shipped_code(arch, features.C1 if spec is None else features.of(spec)))


@dataclass
class Case:
    """One launch: a spec's launcher in a world, with its argv, envp, AT_EXECFN."""
    name: str
    arch: str
    spec: Spec
    blob: bytes
    fs: MemFS
    argv: List[bytes]
    envp: List[bytes]
    execfn: Optional[bytes]
    data_limit: Optional[int] = None

    def with_blob(self, blob: bytes) -> "Case":
        return replace(self, blob=blob)


def scenario_case(sc, arch: str, root: str = ROOT, blob: Optional[bytes] = None) -> Case:
    """The scenario's world in memory and its launcher for ``arch``."""
    import scenarios as S
    from worlds import render, subst
    spec = S.instantiate(sc.spec, root)
    blob = emit(spec, arch) if blob is None else blob
    cwd = root + "/" + sc.cwd if sc.cwd else root
    fs = build_fs(render(sc.world, root, blob, PROBE), os.fsencode(cwd), sc.cwd_deleted)
    return Case(name=sc.name, arch=arch, spec=spec, blob=blob, fs=fs,
                argv=[os.fsencode(subst(a, root)) for a in sc.launcher_argv()],
                envp=[os.fsencode(subst(e, root)) for e in sc.env],
                execfn=None if sc.execfn is None else os.fsencode(subst(sc.execfn, root)),
                data_limit=sc.data_limit)


def as_dict(result) -> dict:
    """A model ``Exec``/``Failure`` in the form ``Outcome.observed`` has."""
    if isinstance(result, model.Exec):
        return {"status": 0, "stderr": result.stderr, "file": result.file, "argv": list(result.argv),
                "envp": list(result.envp)}
    return {"status": result.status, "stderr": result.stderr, "probe ran": False}


def model_result(case: Case, fs=None):
    """The model's verdict, with execve answered by the emulated kernel."""
    result = model.run(case.spec, list(case.argv), list(case.envp), case.execfn, case.fs.getcwd(),
                       fs=ModelFS(case.fs) if fs is None else fs)
    if isinstance(result, model.Exec):
        err = execve_errno(case.fs, result.file, result.argv, result.envp)
        if err is not None:
            result = model.exec_failure(result.file, err, result.stderr)
    return result


def expected(case: Case) -> dict:
    return as_dict(model_result(case))


def launch(case: Case, **kw) -> emulator.Outcome:
    kw.setdefault("seed", seed_for(f"{case.arch}/{case.name}"))
    kw.setdefault("data_limit", case.data_limit)
    return emulator.run(case.blob, case.arch, case.fs, case.argv, case.envp, case.execfn,
                        text_size=text_size(case.arch, case.spec), **kw)


def check(case: Case, **kw) -> emulator.Outcome:
    """Run ``case`` and fail the test unless the launcher does exactly what the model says.
    ``tolerate=harness.known(arch)`` lets the known findings pass."""
    want = expected(case)
    out = launch(case, **kw)
    got = out.observed()
    if got != want:
        pytest.fail(f"launcher differs from the model ({case.name}, {case.arch}):\n{mismatch(want, got)}\n"
                    f"system calls:\n{out.tail()}", pytrace=False)
    return out
