"""Specs for the emit-side tests: the SPEC C1 example, hand-picked cases, and
hypothesis strategies that generate any valid spec."""
from __future__ import annotations

from hypothesis import strategies as st

from tinylaunch.spec import ARGV0_MODES, ENV_OPS, Argv0Literal, EnvOp, Literal, Rlocation, Spec

# SPEC.md C1, verbatim.
C1_EXAMPLE_JSON = """\
{
  "program": {"rlocation": "_main/app/app.venv/bin/python"},
  "args": ["-I", {"rlocation": "_main/app/main.py"}],
  "env": [
    {"op": "default", "name": "BAZEL_TARGET", "value": "//app:main"},
    {"op": "set", "name": "VIRTUAL_ENV", "value": {"rlocation": "_main/app/app.venv"}},
    {"op": "prepend", "name": "PATH", "value": {"rlocation": "_main/app/app.venv/bin"}},
    {"op": "unset", "name": "PYTHONHOME"}
  ],
  "export_runfiles_env": true,
  "argv0": "logical"
}
"""

C1_EXAMPLE = Spec(
    program=Rlocation("_main/app/app.venv/bin/python"),
    args=(Literal("-I"), Rlocation("_main/app/main.py")),
    env=(
        EnvOp("default", "BAZEL_TARGET", Literal("//app:main")),
        EnvOp("set", "VIRTUAL_ENV", Rlocation("_main/app/app.venv")),
        EnvOp("prepend", "PATH", Rlocation("_main/app/app.venv/bin")),
        EnvOp("unset", "PYTHONHOME"),
    ),
)

HAND_PICKED = [
    C1_EXAMPLE,
    Spec(program=Literal("/bin/true")),
    Spec(program=Literal("/usr/bin/env"), args=(Literal(""), Literal("ünïcödé ☃")), export_runfiles_env=False,
         argv0=Argv0Literal("")),
    Spec(program=Rlocation("rules_python~~python~python_3_11/bin/python3"), argv0="resolved",
         env=(EnvOp("append", "PYTHONPATH", Literal("/x"), separator=""),
              EnvOp("prepend", "LD_LIBRARY_PATH", Rlocation("a/lib"), separator=";"))),
    Spec(program=Rlocation("a/b"), args=tuple(Literal(str(i)) for i in range(300)), argv0="launcher",
         env=(EnvOp("set", "É", Literal("v" * 5000)),)),
]

_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=12)
_segment = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0/"),
                   min_size=1, max_size=8).filter(lambda segment: segment not in (".", ".."))
_rlocation = st.lists(_segment, min_size=1, max_size=4).map(lambda segments: Rlocation("/".join(segments)))
_value = st.one_of(_text.map(Literal), _rlocation)
_env_name = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0="),
                    min_size=1, max_size=8)


@st.composite
def _env_op(draw) -> EnvOp:
    op = draw(st.sampled_from(ENV_OPS))
    value = None if op == "unset" else draw(_value)
    separator = draw(_text) if op in ("prepend", "append") else ":"
    return EnvOp(op, draw(_env_name), value, separator)


specs = st.builds(
    Spec,
    program=st.one_of(_rlocation, _text.map(lambda text: Literal("/" + text))),
    args=st.lists(_value, max_size=5).map(tuple),
    env=st.lists(_env_op(), max_size=5).map(tuple),
    export_runfiles_env=st.booleans(),
    argv0=st.one_of(st.sampled_from(ARGV0_MODES), _text.map(Argv0Literal)),
)
