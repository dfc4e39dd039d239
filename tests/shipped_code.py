"""The shipped launcher code, for tests of emit and inspect."""
from __future__ import annotations

import importlib

import pytest


@pytest.fixture
def x86_64_code() -> bytes:
    """The x86_64 code gen/ shipped in tinylaunch.arch (emit and inspect use exactly this)."""
    return importlib.import_module("tinylaunch.arch.x86_64").CODE
