"""The launch spec (SPEC C1): typed values, JSON parsing and validation."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Union


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
DEFAULT_SEPARATOR = ":"
# Ops that join with a separator; every op but "unset" carries a value.
JOINING_OPS = ("prepend", "append")


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


class SpecError(ValueError):
    """A spec that emit must reject; the message is one line naming the field."""

    def __init__(self, field: str, detail: str):
        super().__init__(f"{field}: {detail}")
        self.field = field


def _quote(value: Any) -> str:
    """One-line rendering of a bad value for an error message."""
    return json.dumps(value) if isinstance(value, str) else repr(value)


# ---------------------------------------------------------------- validation

def _check_text(field: str, text: Any) -> None:
    if not isinstance(text, str):
        raise SpecError(field, f"expected a string, got {type(text).__name__}")
    if "\0" in text:
        raise SpecError(field, f"contains a NUL byte: {_quote(text)}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise SpecError(field, f"not valid Unicode: {_quote(text)}") from None


def _check_rlocation_path(field: str, path: Any) -> None:
    """SPEC Terms: not empty, no leading '/', no '.' or '..' segment, no '//', no trailing '/'."""
    _check_text(field, path)
    if path == "":
        raise SpecError(field, "not normalised: empty")
    if path.startswith("/"):
        problem = "leading /"
    elif path.endswith("/"):
        problem = "trailing /"
    elif "//" in path:
        problem = "empty segment"
    elif any(segment in (".", "..") for segment in path.split("/")):
        problem = ". or .. segment"
    else:
        return
    raise SpecError(field, f"not normalised ({problem}): {_quote(path)}")


def _check_value(field: str, value: Any) -> None:
    if isinstance(value, Literal):
        _check_text(field, value.text)
    elif isinstance(value, Rlocation):
        _check_rlocation_path(f"{field}.rlocation", value.path)
    else:
        raise SpecError(field, f"expected Literal or Rlocation, got {type(value).__name__}")


def _check_env_op(field: str, op: Any) -> None:
    if not isinstance(op, EnvOp):
        raise SpecError(field, f"expected EnvOp, got {type(op).__name__}")
    if op.op not in ENV_OPS:
        raise SpecError(f"{field}.op", f"unknown op {_quote(op.op)}; expected one of {', '.join(ENV_OPS)}")
    _check_text(f"{field}.name", op.name)
    if op.name == "":
        raise SpecError(f"{field}.name", "empty")
    if "=" in op.name:
        raise SpecError(f"{field}.name", f"contains '=': {_quote(op.name)}")
    if op.op == "unset":
        if op.value is not None:
            raise SpecError(f"{field}.value", "not allowed for unset")
    elif op.value is None:
        raise SpecError(f"{field}.value", f"missing (required for {op.op})")
    else:
        _check_value(f"{field}.value", op.value)
    if op.op in JOINING_OPS:
        _check_text(f"{field}.separator", op.separator)
    elif op.separator != DEFAULT_SEPARATOR:
        raise SpecError(f"{field}.separator", f"only for {' and '.join(JOINING_OPS)}")


def validate(spec: Spec) -> Spec:
    """Check a typed spec against SPEC C1; return it unchanged or raise SpecError."""
    if not isinstance(spec, Spec):
        raise SpecError("spec", f"expected Spec, got {type(spec).__name__}")
    if isinstance(spec.program, Literal):
        _check_text("program.path", spec.program.text)
        if not spec.program.text.startswith("/"):
            raise SpecError("program.path", f"not absolute: {_quote(spec.program.text)}")
    else:
        _check_value("program", spec.program)
    if not isinstance(spec.args, tuple):
        raise SpecError("args", f"expected a tuple, got {type(spec.args).__name__}")
    for index, arg in enumerate(spec.args):
        _check_value(f"args[{index}]", arg)
    if not isinstance(spec.env, tuple):
        raise SpecError("env", f"expected a tuple, got {type(spec.env).__name__}")
    for index, op in enumerate(spec.env):
        _check_env_op(f"env[{index}]", op)
    if not isinstance(spec.export_runfiles_env, bool):
        raise SpecError("export_runfiles_env", "expected true or false")
    if isinstance(spec.argv0, Argv0Literal):
        _check_text("argv0.literal", spec.argv0.text)
    elif spec.argv0 not in ARGV0_MODES:
        raise SpecError("argv0", f"unknown mode {spec.argv0!r}; "
                                 f"expected one of {', '.join(ARGV0_MODES)} or {{\"literal\": NAME}}")
    return spec


# ---------------------------------------------------------------- JSON form

def _json_type(obj: Any) -> str:
    if obj is None:
        return "null"
    if isinstance(obj, bool):
        return "a boolean"
    if isinstance(obj, (int, float)):
        return "a number"
    if isinstance(obj, str):
        return "a string"
    if isinstance(obj, list):
        return "an array"
    if isinstance(obj, dict):
        return "an object"
    return type(obj).__name__


def _object(field: str, obj: Any, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict:
    """Check that obj is a JSON object with exactly the allowed keys."""
    if not isinstance(obj, dict):
        raise SpecError(field or "spec", f"expected an object, got {_json_type(obj)}")
    for key in obj:
        if key not in required and key not in optional:
            raise SpecError(_join(field, key), "unknown key")
    for key in required:
        if key not in obj:
            raise SpecError(_join(field, key), "missing")
    return obj


def _join(field: str, key: Any) -> str:
    key = key if isinstance(key, str) else _quote(key)
    return f"{field}.{key}" if field else key


def _string(field: str, obj: Any) -> str:
    if not isinstance(obj, str):
        raise SpecError(field, f"expected a string, got {_json_type(obj)}")
    return obj


def _parse_value(field: str, obj: Any) -> Value:
    """A string is a literal; {"rlocation": P} is resolved at run time."""
    if isinstance(obj, str):
        return Literal(obj)
    if not isinstance(obj, dict):
        raise SpecError(field, f"expected a string or {{\"rlocation\": PATH}}, got {_json_type(obj)}")
    _object(field, obj, ("rlocation",))
    return Rlocation(_string(f"{field}.rlocation", obj["rlocation"]))


def _parse_program(obj: Any) -> Value:
    """{"rlocation": P} is resolved at run time; {"path": "/ABS"} is used as is."""
    if not isinstance(obj, dict):
        raise SpecError("program", f"expected {{\"rlocation\": PATH}} or {{\"path\": \"/ABS\"}}, got {_json_type(obj)}")
    if "path" in obj and "rlocation" in obj:
        raise SpecError("program", "has both \"rlocation\" and \"path\"")
    if "path" in obj:
        _object("program", obj, ("path",))
        return Literal(_string("program.path", obj["path"]))
    _object("program", obj, ("rlocation",))
    return Rlocation(_string("program.rlocation", obj["rlocation"]))


def _parse_env_op(field: str, obj: Any) -> EnvOp:
    if not isinstance(obj, dict):
        raise SpecError(field, f"expected an object, got {_json_type(obj)}")
    op = obj.get("op")
    if "op" not in obj:
        raise SpecError(f"{field}.op", "missing")
    if op not in ENV_OPS:
        raise SpecError(f"{field}.op", f"unknown op {_quote(op)}; expected one of {', '.join(ENV_OPS)}")
    if op == "unset" and "value" in obj:
        raise SpecError(f"{field}.value", "not allowed for unset")
    if op != "unset" and "value" not in obj:
        raise SpecError(f"{field}.value", f"missing (required for {op})")
    if op not in JOINING_OPS and "separator" in obj:
        raise SpecError(f"{field}.separator", f"only for {' and '.join(JOINING_OPS)}")
    required = ("op", "name") if op == "unset" else ("op", "name", "value")
    _object(field, obj, required, ("separator",) if op in JOINING_OPS else ())
    name = _string(f"{field}.name", obj["name"])
    value = _parse_value(f"{field}.value", obj["value"]) if "value" in obj else None
    separator = _string(f"{field}.separator", obj.get("separator", DEFAULT_SEPARATOR))
    return EnvOp(op, name, value, separator)


def _parse_list(field: str, obj: Any) -> list:
    if not isinstance(obj, list):
        raise SpecError(field, f"expected an array, got {_json_type(obj)}")
    return obj


def _parse_argv0(obj: Any) -> str | Argv0Literal:
    if isinstance(obj, dict):
        _object("argv0", obj, ("literal",))
        return Argv0Literal(_string("argv0.literal", obj["literal"]))
    if obj not in ARGV0_MODES:
        raise SpecError("argv0", f"unknown mode {_quote(obj)}; "
                                 f"expected one of {', '.join(ARGV0_MODES)} or {{\"literal\": NAME}}")
    return obj


def parse_spec(obj: Any) -> Spec:
    """Build a validated Spec from its JSON form (SPEC C1); raise SpecError."""
    _object("", obj, ("program",), ("args", "env", "export_runfiles_env", "argv0"))
    export = obj.get("export_runfiles_env", True)
    if not isinstance(export, bool):
        raise SpecError("export_runfiles_env", f"expected true or false, got {_json_type(export)}")
    spec = Spec(
        program=_parse_program(obj["program"]),
        args=tuple(_parse_value(f"args[{i}]", arg) for i, arg in enumerate(_parse_list("args", obj.get("args", [])))),
        env=tuple(_parse_env_op(f"env[{i}]", op) for i, op in enumerate(_parse_list("env", obj.get("env", [])))),
        export_runfiles_env=export,
        argv0=_parse_argv0(obj.get("argv0", "logical")),
    )
    return validate(spec)


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise SpecError("spec", f"duplicate key {_quote(key)}")
        out[key] = value
    return out


def load_json(text: str | bytes) -> Any:
    """Parse JSON text, rejecting duplicate keys (which json.loads would silently merge)."""
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicate_keys)
    except json.JSONDecodeError as error:
        raise SpecError("spec", f"not valid JSON: {error}") from None
    except UnicodeDecodeError as error:
        raise SpecError("spec", f"not valid UTF-8: {error}") from None


def load_spec(text: str | bytes) -> Spec:
    """Parse a spec from JSON text."""
    return parse_spec(load_json(text))


def _value_to_json(value: Value) -> Any:
    if isinstance(value, Rlocation):
        return {"rlocation": value.path}
    return value.text


def _env_op_to_json(op: EnvOp) -> dict:
    out: dict = {"op": op.op, "name": op.name}
    if op.value is not None:
        out["value"] = _value_to_json(op.value)
    if op.op in JOINING_OPS:
        out["separator"] = op.separator
    return out


def spec_to_json(spec: Spec) -> dict:
    """The canonical JSON form: every key present; parse_spec(spec_to_json(s)) == s."""
    program = spec.program
    return {
        "program": {"path": program.text} if isinstance(program, Literal) else {"rlocation": program.path},
        "args": [_value_to_json(arg) for arg in spec.args],
        "env": [_env_op_to_json(op) for op in spec.env],
        "export_runfiles_env": spec.export_runfiles_env,
        "argv0": {"literal": spec.argv0.text} if isinstance(spec.argv0, Argv0Literal) else spec.argv0,
    }
