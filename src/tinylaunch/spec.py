"""The launch spec (SPEC C1): typed values, JSON parsing and validation."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union


@dataclass(frozen=True)
class Literal:
    """A string used as is."""
    text: str


@dataclass(frozen=True)
class Rlocation:
    """A runfiles-root-relative path, resolved at run time (SPEC R4)."""
    path: str


Value = Union[Literal, Rlocation]

ENV_OPS = ("set", "default", "unset", "prepend", "append")
ARGV0_MODES = ("logical", "resolved", "launcher")


@dataclass(frozen=True)
class EnvOp:
    op: str                      # one of ENV_OPS
    name: str
    value: Value | None = None   # None only for "unset"
    separator: str = ":"         # used by prepend/append


@dataclass(frozen=True)
class Argv0Literal:
    text: str


@dataclass(frozen=True)
class Spec:
    program: Value               # Literal for {"path": ...}
    args: tuple[Value, ...] = ()
    env: tuple[EnvOp, ...] = ()
    export_runfiles_env: bool = True
    argv0: str | Argv0Literal = "logical"

    def values(self) -> list[Value]:
        """Every value in resolution order: program, args, env op values."""
        out = [self.program, *self.args]
        out += [op.value for op in self.env if op.value is not None]
        return out

    def needs_runfiles(self) -> bool:
        """SPEC R2: discovery runs if any value is an rlocation or export is on."""
        return self.export_runfiles_env or any(isinstance(v, Rlocation) for v in self.values())
