"""The byte layout of the data blob that follows the launcher code (docs/layout.md)."""
from __future__ import annotations

import struct

from tinylaunch.spec import (
    DEFAULT_SEPARATOR, JOINING_OPS, Argv0Literal, EnvOp, Literal, Rlocation, Spec, Value, validate,
)

# flags byte
FLAG_EXPORT_RUNFILES_ENV = 0x01
FLAG_NEEDS_RUNFILES = 0x02          # any rlocation value, or FLAG_EXPORT_RUNFILES_ENV
KNOWN_FLAGS = FLAG_EXPORT_RUNFILES_ENV | FLAG_NEEDS_RUNFILES

# argv0 mode byte
ARGV0_LOGICAL = 0
ARGV0_RESOLVED = 1
ARGV0_LAUNCHER = 2
ARGV0_LITERAL = 3                   # followed by the literal string
ARGV0_MODE_CODES = {"logical": ARGV0_LOGICAL, "resolved": ARGV0_RESOLVED, "launcher": ARGV0_LAUNCHER}

# val tag byte
TAG_LITERAL = 0x01
TAG_RLOCATION = 0x02

# op byte
OP_CODES = {"set": 1, "default": 2, "unset": 3, "prepend": 4, "append": 5}

COUNT = struct.Struct("<I")         # u32 n_args, then u32 n_env_ops, after the argv0 mode byte
NUL = b"\0"                         # ends every string
NAME_SUFFIX = b"="                  # env names are stored as "NAME=" for direct matching


class LayoutError(ValueError):
    """Bytes that are not a data blob this version writes."""


def _string(text: str) -> bytes:
    return text.encode("utf-8") + NUL


def _value(value: Value) -> bytes:
    if isinstance(value, Rlocation):
        return bytes([TAG_RLOCATION]) + _string(value.path)
    return bytes([TAG_LITERAL]) + _string(value.text)


def _env_op(op: EnvOp) -> bytes:
    out = bytes([OP_CODES[op.op]]) + op.name.encode("utf-8") + NAME_SUFFIX + NUL
    if op.op in JOINING_OPS:
        out += _string(op.separator)
    if op.value is not None:
        out += _value(op.value)
    return out


def encode(spec: Spec) -> bytes:
    """Lay out a validated spec as the data blob."""
    validate(spec)
    flags = (FLAG_EXPORT_RUNFILES_ENV if spec.export_runfiles_env else 0) | (
        FLAG_NEEDS_RUNFILES if spec.needs_runfiles() else 0)
    literal = isinstance(spec.argv0, Argv0Literal)
    out = bytearray([flags, ARGV0_LITERAL if literal else ARGV0_MODE_CODES[spec.argv0]])
    for name, count in (("args", len(spec.args)), ("env", len(spec.env))):
        if count >= 1 << 32:
            raise ValueError(f"{name}: {count} entries do not fit the u32 count")
        out += COUNT.pack(count)
    if literal:
        out += _string(spec.argv0.text)
    out += _value(spec.program)
    for arg in spec.args:
        out += _value(arg)
    for op in spec.env:
        out += _env_op(op)
    return bytes(out)


class _Reader:
    """A cursor over the blob; every read names what it expected on failure."""

    def __init__(self, data: bytes):
        self.data = data
        self.offset = 0

    def fail(self, what: str) -> LayoutError:
        return LayoutError(f"data blob offset {self.offset}: {what}")

    def byte(self, what: str) -> int:
        if self.offset >= len(self.data):
            raise self.fail(f"truncated, expected {what}")
        self.offset += 1
        return self.data[self.offset - 1]

    def count(self, what: str) -> int:
        if self.offset + COUNT.size > len(self.data):
            raise self.fail(f"truncated, expected {what}")
        (value,) = COUNT.unpack_from(self.data, self.offset)
        self.offset += COUNT.size
        return value

    def string(self, what: str) -> str:
        end = self.data.find(NUL, self.offset)
        if end < 0:
            raise self.fail(f"unterminated {what}")
        raw = self.data[self.offset:end]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise self.fail(f"{what} is not UTF-8") from None
        self.offset = end + 1
        return text

    def value(self, what: str, tag: int) -> Value:
        if tag == TAG_LITERAL:
            return Literal(self.string(what))
        if tag == TAG_RLOCATION:
            return Rlocation(self.string(what))
        self.offset -= 1
        raise self.fail(f"unknown value tag {tag:#04x} for {what}")


_OPS_BY_CODE = {code: name for name, code in OP_CODES.items()}
_ARGV0_MODES_BY_CODE = {code: name for name, code in ARGV0_MODE_CODES.items()}


def _decode_env_op(reader: _Reader, code: int) -> EnvOp:
    op = _OPS_BY_CODE.get(code)
    if op is None:
        reader.offset -= 1
        raise reader.fail(f"unknown env op {code:#04x}")
    name = reader.string("env name")
    if not name.endswith(NAME_SUFFIX.decode()):
        raise reader.fail(f"env name {name!r} lacks the trailing '='")
    name = name[:-1]
    separator = reader.string("separator") if op in JOINING_OPS else DEFAULT_SEPARATOR
    value = None if op == "unset" else reader.value("env value", reader.byte("env value tag"))
    return EnvOp(op, name, value, separator)


def decode(data: bytes) -> Spec:
    """Read a data blob back into the Spec that encode() laid out; reject anything else."""
    reader = _Reader(bytes(data))
    flags = reader.byte("flags")
    if flags & ~KNOWN_FLAGS:
        raise LayoutError(f"data blob: unknown flag bits {flags:#04x}")
    mode_code = reader.byte("argv0 mode")
    n_args = reader.count("n_args")
    n_env_ops = reader.count("n_env_ops")
    if mode_code == ARGV0_LITERAL:
        argv0: str | Argv0Literal = Argv0Literal(reader.string("argv0 literal"))
    elif mode_code in _ARGV0_MODES_BY_CODE:
        argv0 = _ARGV0_MODES_BY_CODE[mode_code]
    else:
        raise LayoutError(f"data blob: unknown argv0 mode {mode_code}")
    program = reader.value("program", reader.byte("program tag"))
    args = [reader.value(f"args[{i}]", reader.byte(f"args[{i}] tag")) for i in range(n_args)]
    env = [_decode_env_op(reader, reader.byte(f"env[{i}] op")) for i in range(n_env_ops)]
    if reader.offset != len(data):
        raise reader.fail(f"{len(data) - reader.offset} trailing bytes")
    spec = Spec(program, tuple(args), tuple(env), bool(flags & FLAG_EXPORT_RUNFILES_ENV), argv0)
    if bool(flags & FLAG_NEEDS_RUNFILES) != spec.needs_runfiles():
        raise LayoutError(f"data blob: needs-runfiles flag {flags:#04x} disagrees with the spec")
    return validate(spec)
