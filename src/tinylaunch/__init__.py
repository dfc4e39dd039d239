"""tinylaunch: emit tiny static libc-less Linux ELF launchers for Bazel runfiles.

Public API: emit(spec, arch) -> bytes, inspect(blob), and the spec types.
Everything imported here needs only the Python standard library.
"""
from tinylaunch.emit import EmitError, Inspection, emit, inspect
from tinylaunch.spec import (
    Argv0Literal, EnvOp, Literal, Rlocation, Spec, SpecError, load_spec, parse_spec, spec_to_json,
)

__version__ = "0.1.0"

__all__ = [
    "Argv0Literal", "EmitError", "EnvOp", "Inspection", "Literal", "Rlocation", "Spec", "SpecError",
    "emit", "inspect", "load_spec", "parse_spec", "spec_to_json",
]
