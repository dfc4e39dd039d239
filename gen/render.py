"""Render asm/<arch>/launcher.s.j2 into assembly text, with the ABI table, the state
frame and the constant strings both architectures share."""
from __future__ import annotations

import re
from pathlib import Path

import jinja2

from tinylaunch import abi as abi_table
from tinylaunch.features import C1, Features
from . import frame

ASM_DIR = Path(__file__).resolve().parent.parent / "asm"

# Message and name strings of the launchers (docs/behaviour.md has the messages).
STRINGS = (
    ("s_debug", "TINYLAUNCH_DEBUG="),
    ("s_runfiles_dir", "RUNFILES_DIR="),
    ("s_manifest_file", "RUNFILES_MANIFEST_FILE="),
    ("s_java_runfiles", "JAVA_RUNFILES="),
    ("s_dot_runfiles_manifest", ".runfiles_manifest"),
    ("s_slash_manifest", "/MANIFEST"),
    ("s_dev_null", "/dev/null"),
    ("s_slash", "/"),
    ("s_prefix", "tinylaunch: "),
    ("s_colon_errno", ": errno "),
    ("s_colon_e", ": E"),
    ("s_arrow", " -> "),
    ("s_exec", "exec "),
    ("s_arg", "arg "),
    ("s_stat", "stat "),
    ("s_read", "read "),
    ("s_mmap", "mmap"),
    ("s_getcwd", "getcwd"),
    ("s_no_runfiles", "no runfiles: "),
    ("s_not_in_runfiles", "not in runfiles: "),
    ("s_chain_too_long", "too many hops: "),
    ("s_escapes_root", "chain escapes root: "),
    ("s_path_too_long", "path too long: "),
    ("s_empty", ""),
)


ERRNO_TABLE = "errno_tails"
STRING_LABELS = {label for label, _ in STRINGS} | {ERRNO_TABLE}


def cstring(text: str) -> str:
    """A NUL-terminated string as one .byte line (keystone's string directives differ
    between modes; bytes read the same everywhere)."""
    data = text.encode() + b"\0"
    return ".byte " + ", ".join(str(b) for b in data)


STR_BIAS = 128   # the strings base register points this far into the strings


def template_error(message: str) -> str:
    """`{{ fail("...") }}` in a template: stop the render with a layout it cannot use."""
    raise jinja2.TemplateRuntimeError(message)


def errno_table() -> str:
    """R8's errno names as one string: errno byte, name without the "E" every name starts
    with (the code prints ": E" before it), NUL, ..., and a final NUL."""
    return "".join(chr(abi_table.ERRNO[name]) + name[1:] + "\0" for name in abi_table.NAMED_ERRNOS)


def place_strings(uses: dict[str, int]) -> tuple[list[tuple[str, str]], dict[str, int]]:
    """Lay out the strings a variant references (uses: label -> references): the most
    referenced per byte first (so most references are within an 8-bit displacement of
    the base), and a string that ends a placed one shares its bytes; the errno table comes
    last, after at least one string, whose NUL starts fail_errno's walk.  Returns
    the placed (label, text) list and every used label's biased offset."""
    entries = [(label, text) for label, text in list(STRINGS) + [(ERRNO_TABLE, errno_table())] if uses.get(label)]
    # references per byte: what the 8-bit window holds should serve the most references
    order = sorted(range(len(entries)), key=lambda i: (entries[i][0] == ERRNO_TABLE,
                                                       -uses[entries[i][0]] / (len(entries[i][1].encode()) + 1), i))
    # longest first within the sharing pass so that suffixes find their host
    placed, offsets, at = [], {}, 0
    hosts: list[tuple[int, bytes]] = []
    by_length = sorted(order, key=lambda i: -len(entries[i][1]))
    share = {}
    for i in by_length:
        data = entries[i][1].encode() + b"\0"
        for j, host in hosts:
            if host.endswith(data):
                share[i] = (j, len(host) - len(data))
                break
        else:
            hosts.append((i, data))
    start = {}
    for i in order:
        if i in share:
            continue
        start[i] = at
        placed.append(entries[i])
        at += len(entries[i][1].encode()) + 1
    if uses.get(ERRNO_TABLE):
        assert placed[-1][0] == ERRNO_TABLE and len(placed) > 1, \
            "the errno table must follow a string"
    for i, (j, delta) in share.items():
        start[i] = start[j] + delta
    for i, (label, _) in enumerate(entries):
        offsets[label] = start[i] - STR_BIAS
    return placed, offsets


class StringUses:
    """Stands in for the string offsets while a variant is rendered the first time:
    counts each reference (every one renders to offset 0)."""

    def __init__(self):
        self.uses: dict[str, int] = {}

    def __getattr__(self, label: str) -> int:
        if label.startswith("__"):
            raise AttributeError(label)
        self.uses[label] = self.uses.get(label, 0) + 1
        return 0

    def items(self):
        return []


ORIGIN = re.compile(r"@([\w.-]+):(\d+)\s*$")


class OriginLoader(jinja2.FileSystemLoader):
    """Appends `<comment> @file:line` to every template line that is not a Jinja
    statement, so each rendered line says where it came from: an assembler error then
    names the template file and line (the comment is stripped before assembly)."""

    def __init__(self, path: Path, comment: str):
        super().__init__(str(path))
        self.comment = comment

    def get_source(self, environment, template):
        source, filename, uptodate = super().get_source(environment, template)
        lines = []
        for number, line in enumerate(source.split("\n"), 1):
            if line.strip() and not line.lstrip().startswith("{%"):
                line = f"{line} {self.comment} @{template}:{number}"
            lines.append(line)
        return "\n".join(lines), filename, uptodate


def origin(raw_line: str) -> str | None:
    """`file:line` of a rendered line, from OriginLoader's note."""
    match = ORIGIN.search(raw_line)
    return f"{match.group(1)}:{match.group(2)}" if match else None


def render(arch: str, features: Features = C1, asm_dir: Path = ASM_DIR) -> str:
    """The assembly text of arch's launcher variant for features (V in the templates).
    Rendered twice: once to count which strings the variant references, once with
    only those strings laid out."""
    from .assemble import MODES, statements
    abi = abi_table.ARCHES[arch]
    offsets, size = frame.layout()
    env = jinja2.Environment(
        loader=OriginLoader(asm_dir / arch, MODES[arch][2]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["cstring"] = cstring
    env.globals["fail"] = template_error
    env.filters["chr"] = chr
    template = env.get_template("launcher.s.j2")
    context = dict(
        abi=abi, SYS=abi.syscalls, C=abi_table.CONST, E=abi_table.ERRNO, L=abi_table.LIMITS,
        CH={"NL": 10, "SP": 32, "BACKSLASH": 92},
        F=offsets, FRAME_SIZE=size, BIAS=frame.BIAS, V=features, STR_BIAS=STR_BIAS,
    )
    counter = StringUses()
    first = template.render(**context, PLACED_STRINGS=[], S=counter)
    # aarch64 names its strings as symbols (adr x0, s_debug); x86_64 as S.label offsets
    words = re.findall(r"[A-Za-z_]\w*", "\n".join(s.text for s in statements(first, MODES[arch][2])))
    for word in words:
        if word in STRING_LABELS:
            counter.uses[word] = counter.uses.get(word, 0) + 1
    placed, string_offsets = place_strings(counter.uses)
    return template.render(**context, PLACED_STRINGS=placed, S=string_offsets)
