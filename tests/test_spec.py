"""SPEC C1: every rejection reaches the CLI as exit 2 and one line naming the field;
valid specs round-trip through the JSON form."""
from __future__ import annotations

import json

import pytest
from hypothesis import given

from spec_examples import C1_EXAMPLE, C1_EXAMPLE_JSON, HAND_PICKED, specs
from tinylaunch import cli
from tinylaunch.spec import SpecError, load_spec, parse_spec, spec_to_json, validate

P = {"path": "/bin/true"}   # a valid program, where the case is about something else


def env(*ops) -> dict:
    return {"program": P, "env": list(ops)}


# (JSON spec, the field the error must name)
REJECTED_JSON = {
    "rlocation empty": ({"program": {"rlocation": ""}}, "program.rlocation"),
    "rlocation leading slash": ({"program": {"rlocation": "/a/b"}}, "program.rlocation"),
    "rlocation dot segment": ({"program": P, "args": [{"rlocation": "a/./b"}]}, "args[0].rlocation"),
    "rlocation dotdot segment": ({"program": P, "args": ["x", {"rlocation": "a/../b"}]}, "args[1].rlocation"),
    "rlocation leading dotdot": ({"program": {"rlocation": "../b"}}, "program.rlocation"),
    "rlocation lone dot": ({"program": {"rlocation": "."}}, "program.rlocation"),
    "rlocation double slash": ({"program": P, "args": ["a", "b", {"rlocation": "a//b"}]}, "args[2].rlocation"),
    "rlocation trailing slash": (env({"op": "set", "name": "A", "value": {"rlocation": "a/"}}),
                                 "env[0].value.rlocation"),
    "env name empty": (env({"op": "unset", "name": ""}), "env[0].name"),
    "env name with =": (env({"op": "set", "name": "A=B", "value": "x"}), "env[0].name"),
    "env name with NUL": (env({"op": "default", "name": "A\0", "value": "x"}), "env[0].name"),
    "NUL in program path": ({"program": {"path": "/bin/\0true"}}, "program.path"),
    "NUL in rlocation": ({"program": {"rlocation": "a/\0b"}}, "program.rlocation"),
    "NUL in arg": ({"program": P, "args": ["a\0"]}, "args[0]"),
    "NUL in env value": (env({"op": "set", "name": "A", "value": "\0"}), "env[0].value"),
    "NUL in separator": (env({"op": "append", "name": "A", "value": "v", "separator": "\0"}), "env[0].separator"),
    "NUL in argv0 literal": ({"program": P, "argv0": {"literal": "a\0"}}, "argv0.literal"),
    "lone surrogate": ({"program": P, "args": ["\ud800"]}, "args[0]"),
    "unknown op": (env({"op": "export", "name": "A", "value": "v"}), "env[0].op"),
    "missing op": (env({"name": "A", "value": "v"}), "env[0].op"),
    "missing name": (env({"op": "set", "value": "v"}), "env[0].name"),
    "unknown top-level key": ({"program": P, "arguments": []}, "arguments"),
    "program both kinds": ({"program": {"rlocation": "a/b", "path": "/x"}}, "program"),
    "unknown program key": ({"program": {"path": "/x", "mode": 1}}, "program.mode"),
    "program empty object": ({"program": {}}, "program.rlocation"),
    "unknown program kind": ({"program": {"file": "/x"}}, "program.file"),
    "unknown key in arg": ({"program": P, "args": [{"rlocation": "a", "x": 1}]}, "args[0].x"),
    "unknown key in env op": (env({"op": "set", "name": "A", "value": "v", "sep": ":"}), "env[0].sep"),
    "unknown key in env value": (env({"op": "set", "name": "A", "value": {"path": "/x"}}), "env[0].value.path"),
    "unknown key in argv0": ({"program": P, "argv0": {"literal": "x", "mode": 1}}, "argv0.mode"),
    "program missing": ({"args": []}, "program"),
    "program a string": ({"program": "/bin/true"}, "program"),
    "program path not absolute": ({"program": {"path": "bin/true"}}, "program.path"),
    "program path empty": ({"program": {"path": ""}}, "program.path"),
    "program path not a string": ({"program": {"path": 1}}, "program.path"),
    "spec not an object": ([], "spec"),
    "args not a list": ({"program": P, "args": "-I"}, "args"),
    "arg a number": ({"program": P, "args": [1]}, "args[0]"),
    "arg null": ({"program": P, "args": [None]}, "args[0]"),
    "rlocation not a string": ({"program": {"rlocation": ["a"]}}, "program.rlocation"),
    "env not a list": ({"program": P, "env": {}}, "env"),
    "env op not an object": (env("A=B"), "env[0]"),
    "env name not a string": (env({"op": "unset", "name": 5}), "env[0].name"),
    "separator not a string": (env({"op": "prepend", "name": "A", "value": "v", "separator": 0}),
                               "env[0].separator"),
    "export not a boolean": ({"program": P, "export_runfiles_env": 1}, "export_runfiles_env"),
    "argv0 unknown mode": ({"program": P, "argv0": "literal"}, "argv0"),
    "argv0 not a string": ({"program": P, "argv0": 0}, "argv0"),
    "argv0 literal not a string": ({"program": P, "argv0": {"literal": None}}, "argv0.literal"),
    "separator on set": (env({"op": "set", "name": "A", "value": "v", "separator": ";"}), "env[0].separator"),
    "separator on unset": (env({"op": "unset", "name": "A", "separator": ";"}), "env[0].separator"),
    "value on unset": (env({"op": "unset", "name": "A", "value": "v"}), "env[0].value"),
    **{f"value missing for {op}": (env({"op": "unset", "name": "B"}, {"op": op, "name": "A"}), "env[1].value")
       for op in ("set", "default", "prepend", "append")},
}

# (JSON text, field) for problems that only the text form can have
REJECTED_TEXT = {
    "not JSON": ('{"program": ', "spec"),
    "duplicate key": ('{"program": {"path": "/a"}, "program": {"path": "/b"}}', "spec"),
    "not UTF-8": (b'{"program": {"path": "/\xff"}}', "spec"),
}

# (flags, field) for the same rules reached through flags instead of --spec
REJECTED_FLAGS = {
    "--program not normalised": (["--program", "a//b"], "program.rlocation"),
    "--program-path relative": (["--program-path", "bin/true"], "program.path"),
    "--arg-rlocation not normalised": (["--program", "a/b", "--arg", "x", "--arg-rlocation", "./x"],
                                       "args[1].rlocation"),
    "--env empty name": (["--program", "a/b", "--env", "=v"], "env[0].name"),
    "--env-unset with =": (["--program", "a/b", "--env-unset", "A=B"], "env[0].name"),
    "--env-rlocation not normalised": (["--program", "a/b", "--env-rlocation", "A=a/"], "env[0].value.rlocation"),
    "--arg with NUL": (["--program", "a/b", "--arg", "a\0b"], "args[0]"),
    "--env-default without =": (["--program", "a/b", "--env-default", "A"], "--env-default"),
    "--argv0 unknown": (["--program", "a/b", "--argv0", "literal"], "argument --argv0"),
    "no program": (["--arg", "x"], "program"),
    "--spec missing file": (["--spec", "/nonexistent/spec.json"], "--spec"),
}


def run_emit(tmp_path, capsys, flags: list[str]) -> tuple[int, list[str]]:
    out = tmp_path / "launcher"
    status = cli.main(["emit", "--arch", "x86_64", "-o", str(out), *flags])
    captured = capsys.readouterr()
    assert captured.out == ""
    assert not out.exists(), "a rejected spec must not leave an output file"
    return status, captured.err.splitlines()


def assert_rejected(status: int, lines: list[str], field: str) -> None:
    assert status == 2
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"tinylaunch: error: {field}"), lines[0]
    assert lines[0][len(f"tinylaunch: error: {field}"):][:1] in (":", " "), lines[0]


@pytest.mark.parametrize("case", REJECTED_JSON)
def test_rejected_spec_file(case, tmp_path, capsys):
    spec, field = REJECTED_JSON[case]
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(spec), encoding="utf-8", errors="surrogatepass")
    assert_rejected(*run_emit(tmp_path, capsys, ["--spec", str(spec_file)]), field)


@pytest.mark.parametrize("case", REJECTED_TEXT)
def test_rejected_spec_text(case, tmp_path, capsys):
    text, field = REJECTED_TEXT[case]
    spec_file = tmp_path / "spec.json"
    spec_file.write_bytes(text if isinstance(text, bytes) else text.encode())
    assert_rejected(*run_emit(tmp_path, capsys, ["--spec", str(spec_file)]), field)


@pytest.mark.parametrize("case", REJECTED_FLAGS)
def test_rejected_flags(case, tmp_path, capsys):
    flags, field = REJECTED_FLAGS[case]
    assert_rejected(*run_emit(tmp_path, capsys, flags), field)


def test_error_message_quotes_the_value():
    with pytest.raises(SpecError) as error:
        parse_spec({"program": P, "args": ["a", "b", {"rlocation": "a//b"}]})
    assert str(error.value) == 'args[2].rlocation: not normalised (empty segment): "a//b"'
    assert error.value.field == "args[2].rlocation"


def test_c1_example_parses():
    assert load_spec(C1_EXAMPLE_JSON) == C1_EXAMPLE


def test_defaults():
    spec = parse_spec({"program": {"path": "/bin/true"}})
    assert (spec.args, spec.env, spec.export_runfiles_env, spec.argv0) == ((), (), True, "logical")


@pytest.mark.parametrize("spec", HAND_PICKED, ids=range(len(HAND_PICKED)))
def test_hand_picked_round_trip(spec):
    assert validate(spec) is spec
    assert parse_spec(spec_to_json(spec)) == spec
    assert load_spec(json.dumps(spec_to_json(spec))) == spec


@given(specs)
def test_generated_round_trip(spec):
    assert load_spec(json.dumps(spec_to_json(spec))) == spec


def test_canonical_form_is_complete():
    assert spec_to_json(C1_EXAMPLE) == {
        "program": {"rlocation": "_main/app/app.venv/bin/python"},
        "args": ["-I", {"rlocation": "_main/app/main.py"}],
        "env": [
            {"op": "default", "name": "BAZEL_TARGET", "value": "//app:main"},
            {"op": "set", "name": "VIRTUAL_ENV", "value": {"rlocation": "_main/app/app.venv"}},
            {"op": "prepend", "name": "PATH", "value": {"rlocation": "_main/app/app.venv/bin"}, "separator": ":"},
            {"op": "unset", "name": "PYTHONHOME"},
        ],
        "export_runfiles_env": True,
        "argv0": "logical",
    }
