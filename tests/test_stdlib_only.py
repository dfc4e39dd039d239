"""SPEC C2: emit needs only the Python standard library, installed or imported."""
from __future__ import annotations

import os
import platform
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BUILD_TOOLS = ("keystone", "jinja2", "elftools", "unicorn", "capstone")   # dev extras, never runtime

BLOCKED_IMPORTS = """
import sys

class Blocker:
    \"\"\"Fail any import of the build-time and test-time packages.\"\"\"
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ImportError(f"blocked for this test: {name}")
        return None

BLOCKED = set(sys.argv[1].split(","))
sys.meta_path.insert(0, Blocker())
before = set(sys.modules)

import tinylaunch.emit
from tinylaunch import cli, emit, inspect, load_spec

spec = load_spec('{"program": {"rlocation": "_main/bin/tool"}, "args": ["-v"]}')
blob = emit(spec, "x86_64")
assert inspect(blob).spec == spec
assert cli.main(["emit", "--arch", "x86_64", "-o", sys.argv[2], "--program", "_main/bin/tool", "--arg=-v"]) == 0
assert open(sys.argv[2], "rb").read() == blob

loaded = {name.partition(".")[0] for name in set(sys.modules) - before}
if hasattr(sys, "stdlib_module_names"):   # Python 3.10+
    print(" ".join(sorted(loaded - set(sys.stdlib_module_names) - {"tinylaunch"})))
"""


def test_emit_with_build_tools_blocked(tmp_path):
    out = tmp_path / "launcher"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    result = subprocess.run([sys.executable, "-c", BLOCKED_IMPORTS, ",".join(BUILD_TOOLS), str(out)],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"emit imported non-stdlib modules: {result.stdout}"
    assert out.read_bytes()[:4] == b"\x7fELF"


def pip_cannot_reach_an_index(output: str) -> bool:
    return any(sign in output for sign in ("NewConnectionError", "Network is unreachable",
                                           "Temporary failure in name resolution",
                                           "No matching distribution found for setuptools"))


def test_pip_install_into_fresh_venv(tmp_path):
    """pip install . into a venv that has none of the dev extras; then the console script emits."""
    source = tmp_path / "source"
    shutil.copytree(REPO / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copy(REPO / "pyproject.toml", source)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    # The venv sees only what is installed in it, whatever PYTHONPATH the tests run with.
    clean = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    # Build isolation fetches the build backend (setuptools) from the index: the venv
    # stays clean, and nothing on the test machine is assumed beyond python and pip.
    install = subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--quiet", str(source)],
                             capture_output=True, text=True, env=clean)
    if install.returncode != 0 and not os.environ.get("CI") and pip_cannot_reach_an_index(install.stdout + install.stderr):
        pytest.skip("no package index reachable to fetch the build backend (CI runs this)")
    assert install.returncode == 0, install.stdout + install.stderr

    for tool in BUILD_TOOLS:
        assert subprocess.run([str(python), "-c", f"import {tool}"], capture_output=True, env=clean).returncode != 0, tool

    out = tmp_path / "launcher"
    tinylaunch = venv / "bin" / "tinylaunch"
    emitted = subprocess.run([str(tinylaunch), "emit", "--arch", "x86_64", "-o", str(out),
                              "--program-path", "/bin/echo", "--arg", "from the venv", "--no-export-runfiles-env"],
                             capture_output=True, text=True, cwd=tmp_path, env=clean)
    assert emitted.returncode == 0, emitted.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o755
    inspected = subprocess.run([str(tinylaunch), "inspect", str(out)], capture_output=True, text=True, env=clean)
    assert inspected.returncode == 0 and "arch: x86_64" in inspected.stdout, inspected.stderr

    site_packages = subprocess.run([str(python), "-c", "import tinylaunch, os; print(os.path.dirname(tinylaunch.__file__))"],
                                   capture_output=True, text=True, check=True, env=clean).stdout.strip()
    assert Path(site_packages, "arch", "x86_64.lst").is_file(), "the listing ships beside the code"
    assert not site_packages.startswith(str(REPO)), "the venv must use its own installed copy"

    if platform.machine() == "x86_64":
        ran = subprocess.run([str(out)], capture_output=True, text=True)
        assert (ran.returncode, ran.stdout) == (0, "from the venv\n"), ran.stderr
