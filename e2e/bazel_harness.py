"""The e2e suite's harness (the fixtures are in conftest.py): a real Bazel (Debian's bazel-bootstrap, 4.2.3) on e2e/example.

- ``require(condition, reason)``: skip when the host cannot run a test (no Bazel), except
  under ``CI=true`` where such a skip is a failure (CI must run everything).
- ``Bazel``: one session-wide ``--output_user_root`` (the install base is unpacked once),
  ``--batch`` (no server left behind), no rc file of the user's or the workspace's (the
  system's stays: Debian's sets the install base; its ``--sandbox_debug`` is turned
  off, it fills outputs with mount logs and keeps every sandbox), and the offline
  overrides: Debian's ``@platforms`` and the stand-ins in e2e/offline/, so nothing is
  downloaded. Each call is timed; the summary lists the time per test.
- ``Workspace``: a copy of e2e/example in a temporary folder whose WORKSPACE points
  ``@tinylaunch`` at this checkout; each *output base* (``bazel(..., base="noenable")``)
  is a separate, clean set of outputs, so one mode's runfiles trees never leak into
  another's.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

from testkit import require  # noqa: F401  (re-exported to the suite)

E2E = Path(__file__).resolve().parent
REPO = E2E.parent
EXAMPLE = E2E / "example"
OFFLINE = E2E / "offline"
DEBIAN_PLATFORMS = Path("/usr/share/bazel/tools/platforms")

if str(REPO / "src") not in sys.path:
    sys.path.insert(0, str(REPO / "src"))

# Environment variables that would change what Bazel or a launcher does: a Bazel or test
# environment around pytest must not leak into the builds and the direct runs.
LEAKY_ENV = re.compile(r"^(RUNFILES_.*|JAVA_RUNFILES|PYTHON_RUNFILES|TEST_.*|BAZEL_.*|BUILD_WORKSPACE_DIRECTORY|"
                       r"BUILD_WORKING_DIRECTORY|TINYLAUNCH_DEBUG|VIRTUAL_ENV|PYTHONPATH|PYTHONHOME)$")

# Lines Debian's linux-sandbox writes about its mounts into action and test output.
SANDBOX_NOISE = re.compile(r"^\d+\.\d+: src/main/tools/linux-sandbox")




def quiet(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not SANDBOX_NOISE.match(line))


def clean_env(**extra: str) -> dict:
    env = {name: value for name, value in os.environ.items() if not LEAKY_ENV.match(name)}
    env.update(extra)
    return env


# --- timings ----------------------------------------------------------------------

timings: dict[str, float] = defaultdict(float)
calls: dict[str, int] = defaultdict(int)


def _current_test() -> str:
    return os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0].rsplit("/", 1)[-1]


@dataclass
class Result:
    args: list
    returncode: int
    output: str          # stdout and stderr, without the sandbox's noise
    seconds: float

    def check(self) -> Result:
        if self.returncode != 0:
            pytest.fail(f"bazel {' '.join(self.args)} exited {self.returncode}:\n{self.output[-6000:]}",
                        pytrace=False)
        return self


class Bazel:
    """``bazel --batch`` with the session's output user root and the offline overrides."""

    def __init__(self, binary: str, user_root: Path):
        self.binary = binary
        self.user_root = user_root
        self.overrides = [
            f"--override_repository=platforms={DEBIAN_PLATFORMS}",
            f"--override_repository=rules_cc={OFFLINE / 'rules_cc'}",
            f"--override_repository=rules_java={OFFLINE / 'rules_java'}",
            f"--override_repository=remote_coverage_tools={OFFLINE / 'remote_coverage_tools'}",
        ]

    def __call__(self, workspace: Path, output_base: Path, command: str, *args: str,
                 startup: tuple = (), env: dict | None = None, check: bool = True) -> Result:
        argv = [self.binary, "--batch", "--nohome_rc", "--noworkspace_rc",
                f"--output_user_root={self.user_root}", f"--output_base={output_base}", *startup,
                command]
        if command not in ("info", "clean", "shutdown", "version"):
            argv += [*self.overrides, "--color=no", "--curses=no", "--show_progress_rate_limit=60",
                     "--nosandbox_debug"]
        argv += list(args)
        start = time.monotonic()
        proc = subprocess.run(argv, cwd=workspace, env=env or clean_env(), stdin=subprocess.DEVNULL, check=False,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
        seconds = time.monotonic() - start
        test = _current_test()
        timings[test] += seconds
        calls[test] += 1
        result = Result([command, *args], proc.returncode, quiet(proc.stdout), seconds)
        return result.check() if check else result


class Workspace:
    """A copy of e2e/example whose @tinylaunch is this checkout; one output base per mode."""

    def __init__(self, bazel: Bazel, root: Path):
        self.bazel = bazel
        self.root = root
        self.path = root / "example"
        shutil.copytree(EXAMPLE, self.path, symlinks=True,
                        ignore=shutil.ignore_patterns("bazel-*", "__pycache__"))
        workspace_file = self.path / "WORKSPACE"
        text = workspace_file.read_text()
        pointed, count = re.subn(r'(local_repository\(\s*name = "tinylaunch",\s*path = )"[^"]*"',
                                 lambda m: m.group(1) + f'"{REPO}"', text)
        assert count == 1, "e2e/example/WORKSPACE: expected one local_repository named tinylaunch"
        workspace_file.write_text(pointed)

    def output_base(self, base: str) -> Path:
        return self.root / f"output-{base}"

    def __call__(self, base: str, command: str, *args: str, **kwargs) -> Result:
        return self.bazel(self.path, self.output_base(base), command, *args, **kwargs)

    @property
    def bazel_bin(self) -> Path:
        """bazel-bin as users see it: the symlink follows the last build, whatever its output base."""
        return self.path / "bazel-bin"

    def test_log(self, label: str) -> str:
        """The test.log of the last `bazel test` of label, without the sandbox's noise."""
        package, name = label.lstrip("/").split(":")
        return quiet((self.path / "bazel-testlogs" / package / name / "test.log").read_text(errors="replace"))
