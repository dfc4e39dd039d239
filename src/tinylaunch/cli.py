"""The command line (SPEC C2): argument parsing only; the work is done by the API."""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from typing import Any, NamedTuple, Sequence

from tinylaunch.abi import ARCHES
from tinylaunch.emit import emit, inspect
from tinylaunch.spec import ARGV0_MODES, SpecError, load_json, parse_spec, spec_to_json

EXIT_OK = 0
EXIT_FAILED = 1          # I/O error, a file that is not a launcher, a launch the model says fails
EXIT_USAGE = 2           # bad usage or bad spec (SPEC C2)
LAUNCHER_MODE = 0o755

EMIT_DESCRIPTION = """\
Write a launcher for one program. The spec comes from --spec, from flags, or both.
--arg/--arg-rlocation and the --env* flags may be repeated; their order on the
command line is kept. With --spec, their args and env ops are appended after the
spec's own; --program/--program-path, --no-export-runfiles-env and --argv0
override the spec's. --argv0 =NAME makes argv[0] the literal NAME.
A value that starts with '-' is written --arg=-x."""


class UsageError(Exception):
    """Bad usage or a bad spec: exit status 2."""


class _Parser(argparse.ArgumentParser):
    """Report usage errors as one line, as every other error is reported."""

    def error(self, message: str):
        raise UsageError(message)


class OrderedFlag(NamedTuple):
    """A repeatable flag that adds one item to the spec's args or env, in command-line order."""
    key: str                 # "args" or "env"
    op: str | None           # the env op; None for args
    kind: str | None         # "literal" or "rlocation"; None for --env-unset
    metavar: str
    help: str


ORDERED_FLAGS = {
    "--arg": OrderedFlag("args", None, "literal", "LITERAL", "an embedded argument"),
    "--arg-rlocation": OrderedFlag("args", None, "rlocation", "RLOCATION",
                                   "an embedded argument, resolved through the runfiles"),
    "--env": OrderedFlag("env", "set", "literal", "NAME=VALUE", "set NAME"),
    "--env-default": OrderedFlag("env", "default", "literal", "NAME=VALUE", "set NAME unless present"),
    "--env-unset": OrderedFlag("env", "unset", None, "NAME", "remove NAME"),
    "--env-prepend": OrderedFlag("env", "prepend", "literal", "NAME=VALUE", "prepend to NAME, ':'-separated"),
    "--env-append": OrderedFlag("env", "append", "literal", "NAME=VALUE", "append to NAME, ':'-separated"),
    "--env-rlocation": OrderedFlag("env", "set", "rlocation", "NAME=RLOCATION", "like --env, resolved"),
    "--env-prepend-rlocation": OrderedFlag("env", "prepend", "rlocation", "NAME=RLOCATION",
                                           "like --env-prepend, resolved"),
    "--env-append-rlocation": OrderedFlag("env", "append", "rlocation", "NAME=RLOCATION",
                                          "like --env-append, resolved"),
}


def _json_value(kind: str, text: str) -> Any:
    return {"rlocation": text} if kind == "rlocation" else text


def _json_item(flag: str, text: str) -> Any:
    """The JSON form (SPEC C1) of the arg or env op that one ordered flag gives."""
    ordered = ORDERED_FLAGS[flag]
    if ordered.op is None:
        return _json_value(ordered.kind, text)
    if ordered.kind is None:
        return {"op": ordered.op, "name": text}
    name, equals, value = text.partition("=")
    if not equals:
        raise UsageError(f"{flag}: expected {ordered.metavar}, got {json.dumps(text)}")
    return {"op": ordered.op, "name": name, "value": _json_value(ordered.kind, value)}


class _AppendInOrder(argparse.Action):
    """Append (flag, text) to one list shared by every ordered flag, keeping command-line order."""

    def __call__(self, parser, namespace, values, option_string=None):
        namespace.ordered = [*getattr(namespace, "ordered", []), (option_string, values)]


def _argv0(text: str) -> Any:
    if text.startswith("="):
        return {"literal": text[1:]}
    if text not in ARGV0_MODES:
        raise argparse.ArgumentTypeError(f"expected {'|'.join(ARGV0_MODES)}|=LITERAL, got {json.dumps(text)}")
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tinylaunch", description="Emit tiny static Linux ELF launchers for Bazel runfiles.",
                     epilog="Exit status: 0 success, 1 failure (I/O, not a launcher, explain: the launch "
                            "would fail), 2 bad usage or bad spec.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    emit_parser = commands.add_parser("emit", help="write a launcher", description=EMIT_DESCRIPTION,
                                      formatter_class=argparse.RawDescriptionHelpFormatter)
    emit_parser.add_argument("--arch", required=True, choices=tuple(ARCHES))
    emit_parser.add_argument("-o", dest="out", required=True, metavar="OUT",
                             help="the launcher to write (atomically, mode 0755)")
    emit_parser.add_argument("--spec", metavar="SPEC.json", help="a spec in the JSON form of SPEC C1")
    program = emit_parser.add_mutually_exclusive_group()
    program.add_argument("--program", metavar="RLOCATION", help="the program, as an rlocation path")
    program.add_argument("--program-path", metavar="/ABS", help="the program, as an absolute path used as is")
    for flag, ordered in ORDERED_FLAGS.items():
        emit_parser.add_argument(flag, action=_AppendInOrder, dest="ordered", default=[],
                                 metavar=ordered.metavar, help=ordered.help)
    emit_parser.add_argument("--no-export-runfiles-env", action="store_true",
                             help="do not export RUNFILES_DIR, JAVA_RUNFILES, RUNFILES_MANIFEST_FILE")
    emit_parser.add_argument("--argv0", type=_argv0, metavar="logical|resolved|launcher|=LITERAL",
                             help="what the program sees as argv[0] (default: logical)")

    inspect_parser = commands.add_parser("inspect", help="show a launcher's arch, sizes and spec")
    inspect_parser.add_argument("launcher", metavar="LAUNCHER")

    explain_parser = commands.add_parser(
        "explain", help="show what a launcher would execute here and now",
        description="Run the reference model with this process's environment and working "
                    "directory, as if LAUNCHER had been run with ARGS; print the file, argv and "
                    "environment changes, or the failure. Exit 1 when the launch would fail.")
    explain_parser.add_argument("launcher", metavar="LAUNCHER")
    explain_parser.add_argument("args", nargs="*", metavar="ARGS", help="after --")
    return parser


# ---------------------------------------------------------------- emit

def _spec_json_from(options) -> dict:
    """The spec file's JSON (if any) with the flags merged in."""
    spec: Any = {}
    if options.spec is not None:
        try:
            with open(options.spec, "rb") as spec_file:
                spec = load_json(spec_file.read())
        except OSError as error:
            raise UsageError(f"--spec {options.spec}: {error.strerror}") from None
        if not isinstance(spec, dict):
            return spec      # parse_spec names the problem
    for flag, text in options.ordered:
        key = ORDERED_FLAGS[flag].key
        existing = spec.get(key, [])
        if isinstance(existing, list):      # otherwise parse_spec names the problem
            spec[key] = [*existing, _json_item(flag, text)]
    if options.program is not None:
        spec["program"] = {"rlocation": options.program}
    elif options.program_path is not None:
        spec["program"] = {"path": options.program_path}
    elif "program" not in spec:
        raise UsageError("program: missing: give --program, --program-path or a --spec that has one")
    if options.no_export_runfiles_env:
        spec["export_runfiles_env"] = False
    if options.argv0 is not None:
        spec["argv0"] = options.argv0
    return spec


def write_atomically(path: str, content: bytes, mode: int) -> None:
    """Write path so that readers see the old file or the whole new one, never a part."""
    directory = os.path.dirname(path) or "."
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
            os.fchmod(out.fileno(), mode)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    directory_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(directory_fd)
    finally:
        os.close(directory_fd)


def run_emit(options) -> int:
    spec = parse_spec(_spec_json_from(options))
    write_atomically(options.out, emit(spec, options.arch), LAUNCHER_MODE)
    return EXIT_OK


# ---------------------------------------------------------------- inspect

def _read(path: str) -> bytes:
    with open(path, "rb") as launcher:
        return launcher.read()


def run_inspect(options) -> int:
    found = inspect(_read(options.launcher))
    print(f"arch: {found.arch}")
    for part, size in found.sizes.items():
        print(f"{part}: {size} bytes")
    print("spec:")
    print(json.dumps(spec_to_json(found.spec), indent=2, ensure_ascii=False))
    return EXIT_OK


# ---------------------------------------------------------------- explain

def _show(raw: bytes) -> str:
    return raw.decode("utf-8", "backslashreplace")


def _values_by_name(envp: Sequence[bytes]) -> dict[bytes, list[bytes]]:
    """Entries without '=' are passed through untouched, so they are no change."""
    values: dict[bytes, list[bytes]] = {}
    for entry in envp:
        name, equals, value = entry.partition(b"=")
        if equals:
            values.setdefault(name, []).append(value)
    return values


def env_changes(before: Sequence[bytes], after: Sequence[bytes]) -> list[str]:
    """One line per name whose values differ: '+' added, '-' removed, '~' changed."""
    old, new = _values_by_name(before), _values_by_name(after)
    lines = []
    for name in [*old, *(name for name in new if name not in old)]:
        was, now = old.get(name, []), new.get(name, [])
        if was == now:
            continue
        shown_now = ", ".join(_show(name + b"=" + value) for value in now)
        shown_was = ", ".join(_show(value) for value in was)
        if not was:
            lines.append(f"+ {shown_now}")
        elif not now:
            lines.append(f"- {_show(name)} (was {shown_was})")
        else:
            lines.append(f"~ {shown_now} (was {shown_was})")
    return lines


def run_explain(options) -> int:
    from tinylaunch import model   # the reference model: only explain needs it

    found = inspect(_read(options.launcher))
    launcher = os.fsencode(options.launcher)
    envp = [name + b"=" + value for name, value in os.environb.items()]
    outcome = model.run(found.spec, argv=[launcher, *map(os.fsencode, options.args)], envp=envp,
                        execfn=launcher, cwd=os.getcwdb())
    trace = _show(outcome.stderr).splitlines()
    if isinstance(outcome, model.Failure):
        print(f"fails with exit status {outcome.status}:")
        print("\n".join(f"  {line}" for line in trace))
        return EXIT_FAILED
    print(f"file: {_show(outcome.file)}")
    print("argv:")
    for index, arg in enumerate(outcome.argv):
        print(f"  [{index}] {_show(arg)}")
    changes = env_changes(envp, outcome.envp)
    print("env changes:" if changes else "env changes: none")
    for line in changes:
        print(f"  {line}")
    if trace:
        print("stderr:")
        print("\n".join(f"  {line}" for line in trace))
    return EXIT_OK


COMMANDS = {"emit": run_emit, "inspect": run_inspect, "explain": run_explain}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        options = build_parser().parse_args(argv)
        return COMMANDS[options.command](options)
    except (UsageError, SpecError) as error:
        print(f"tinylaunch: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader went away (`tinylaunch inspect X | head -5`): stop quietly, and keep
        # the interpreter's final flush of stdout from failing again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    except (OSError, ValueError) as error:
        detail = f"{error.filename}: {error.strerror}" if isinstance(error, OSError) and error.strerror else error
        print(f"tinylaunch: error: {detail}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
