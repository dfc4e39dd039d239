"""The shipped launcher code, for tests of emit and inspect."""
from __future__ import annotations

import importlib
import sys
import types

import pytest

# Until gen/ ships tinylaunch/arch/x86_64.py: mov edi, 42; mov eax, 231 (exit_group); syscall.
STAND_IN_CODE = bytes.fromhex("bf2a000000b8e70000000f05")


@pytest.fixture
def x86_64_code(monkeypatch) -> bytes:
    """The x86_64 code gen/ shipped in tinylaunch.arch (emit and inspect use exactly this)."""
    try:
        return importlib.import_module("tinylaunch.arch.x86_64").CODE
    except ModuleNotFoundError:
        stand_in = types.ModuleType("tinylaunch.arch.x86_64")
        stand_in.CODE = STAND_IN_CODE
        monkeypatch.setitem(sys.modules, "tinylaunch.arch.x86_64", stand_in)
        return STAND_IN_CODE
