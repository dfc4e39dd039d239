"""The unicorn test bed: both launchers under emulation (see README.md here).

A package, so its modules (``emu_tests.conftest`` among them) never shadow the native
suite's top-level ``conftest`` and test modules. The scenario table lives in tests/
(``scenarios``, ``worlds``: top-level modules there), so that folder is put on the path.
"""
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
for _p in (_HERE.parent / "src", _HERE.parent / "tests"):
    if str(_p) not in sys.path:
        sys.path.append(str(_p))
