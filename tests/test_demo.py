"""The README's quick start, part 1: ./demo.sh emits a launcher per arch and runs each in
directory mode, in manifest-only mode and on a path that is not in the runfiles."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from conftest import require

REPO = Path(__file__).resolve().parent.parent


def test_demo_runs_both_arches():
    require(shutil.which("qemu-aarch64-static") is not None, "qemu-aarch64-static is not installed")
    result = subprocess.run([str(REPO / "demo.sh")], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    sections = re.split(r"^== ", result.stdout, flags=re.M)[1:]
    assert [s.split()[0] for s in sections] == ["x86_64", "aarch64"], result.stdout
    for section in sections:
        arch = section.split()[0]
        assert f"arch: {arch}" in section
        directory, manifest, missing = re.split(r"^-- ", section, flags=re.M)[1:]
        assert "GREETING=hi MSG=" in directory and "RUNFILES_MANIFEST_FILE=<unset>" in directory, section
        assert "RUNFILES_DIR=<unset>" in manifest and "/real/greet" in manifest, section
        assert "not in runfiles: _main/tools/missing" in missing + result.stderr
        assert "exit status 127" in missing, section
