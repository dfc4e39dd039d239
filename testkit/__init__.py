"""Helpers shared by the test suites (tests/, emu_tests/, e2e/): what CI demands."""
from __future__ import annotations

import os

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
