"""Emit a launcher (the shipped code of an arch + a spec's data blob) and inspect one."""
from __future__ import annotations

import importlib
from typing import NamedTuple

from tinylaunch import elf, layout
from tinylaunch.abi import ARCHES
from tinylaunch.spec import Spec, validate

ARCH_PACKAGE = "tinylaunch.arch"     # gen/ writes one module per arch here, exposing CODE


class EmitError(ValueError):
    """No launcher can be made for this arch, or a file is not a launcher."""


def shipped_code(arch: str) -> bytes:
    """The pre-assembled launcher code for arch (stdlib-only: no keystone at run time)."""
    if arch not in ARCHES:
        raise EmitError(f"arch {arch}: unknown; expected one of {', '.join(ARCHES)}")
    module_name = f"{ARCH_PACKAGE}.{arch}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name not in (module_name, ARCH_PACKAGE):
            raise
        raise EmitError(f"arch {arch}: no launcher code shipped yet") from None
    return module.CODE


def emit(spec: Spec, arch: str) -> bytes:
    """The bytes of a launcher for spec on arch; the same inputs always give the same bytes."""
    validate(spec)
    return elf.write(shipped_code(arch), layout.encode(spec), arch)


class Inspection(NamedTuple):
    arch: str
    sizes: dict          # headers, code, data, total: byte counts
    spec: Spec


def inspect(blob: bytes) -> Inspection:
    """Read back what emit() wrote: the arch, the part sizes and the embedded spec."""
    arch, payload = elf.read(blob)
    code = shipped_code(arch)
    if payload[:len(code)] != code:
        raise EmitError(f"not a launcher of this tinylaunch version: its {arch} code differs from the shipped code")
    data = payload[len(code):]
    sizes = {"headers": elf.HEADERS_SIZE, "code": len(code), "data": len(data), "total": len(blob)}
    return Inspection(arch, sizes, layout.decode(data))
