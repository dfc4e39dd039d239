"""Emit a launcher (the shipped code of an arch + a spec's data blob) and inspect one."""
from __future__ import annotations

import importlib
from typing import NamedTuple

from tinylaunch import elf, features, layout
from tinylaunch.abi import ARCHES
from tinylaunch.features import Features
from tinylaunch.spec import Spec, SpecError, validate

ARCH_PACKAGE = "tinylaunch.arch"     # gen/ writes one module per arch here, exposing VARIANTS


class EmitError(ValueError):
    """No launcher can be made for this arch, or a file is not a launcher."""


def shipped_variants(arch: str) -> dict[str, bytes]:
    """The pre-assembled code variants of arch by feature-set name (stdlib-only: no
    keystone at run time)."""
    if arch not in ARCHES:
        raise EmitError(f"arch {arch}: unknown; expected one of {', '.join(ARCHES)}")
    module_name = f"{ARCH_PACKAGE}.{arch}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name not in (module_name, ARCH_PACKAGE):
            raise
        raise EmitError(f"arch {arch}: no launcher code shipped yet") from None
    return module.VARIANTS


def shipped_code(arch: str, wanted: Features = features.C1) -> bytes:
    """The code of the variant for a feature set (default: SPEC C1's)."""
    return shipped_variants(arch)[wanted.name]


def emit(spec: Spec, arch: str) -> bytes:
    """The bytes of a launcher for spec on arch; the same inputs always give the same bytes."""
    validate(spec)
    return elf.write(shipped_code(arch, features.of(spec)), layout.encode(spec), arch)


class Inspection(NamedTuple):
    arch: str
    sizes: dict          # headers, code, data, total: byte counts
    spec: Spec


def inspect(blob: bytes) -> Inspection:
    """Read back what emit() wrote: the arch, the part sizes and the embedded spec.  The
    code is the variant that, followed by a valid blob, makes a spec of its features."""
    arch, payload = elf.read(blob)
    for name, code in shipped_variants(arch).items():
        if not payload.startswith(code):
            continue
        try:
            spec = layout.decode(payload[len(code):])
        except (layout.LayoutError, SpecError):
            continue
        if features.of(spec).name == name:
            sizes = {"headers": elf.HEADERS_SIZE, "code": len(code), "data": len(payload) - len(code),
                     "total": len(blob)}
            return Inspection(arch, sizes, spec)
    raise EmitError(f"not a launcher of this tinylaunch version: no {arch} code variant it ships "
                    f"starts it with a blob of its features")
