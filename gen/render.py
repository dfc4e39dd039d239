"""Render asm/<arch>/launcher.s.j2 into assembly text, with the ABI table, the state
frame and the constant strings both architectures share."""
from __future__ import annotations

from pathlib import Path

import jinja2

from tinylaunch import abi as abi_table
from . import frame

ASM_DIR = Path(__file__).resolve().parent.parent / "asm"

# Message and name strings of the launchers (docs/behaviour.md has the messages).
STRINGS = (
    ("s_debug", "TINYLAUNCH_DEBUG="),
    ("s_runfiles_dir", "RUNFILES_DIR="),
    ("s_manifest_file", "RUNFILES_MANIFEST_FILE="),
    ("s_java_runfiles", "JAVA_RUNFILES="),
    ("s_dot_runfiles_manifest", ".runfiles_manifest"),
    ("s_dot_runfiles", ".runfiles"),
    ("s_slash_manifest", "/MANIFEST"),
    ("s_dev_null", "/dev/null"),
    ("s_slash", "/"),
    ("s_prefix", "tinylaunch: "),
    ("s_colon", ": "),
    ("s_arrow", " -> "),
    ("s_trace_dir", "runfiles dir "),
    ("s_trace_manifest", "runfiles manifest "),
    ("s_exec", "exec "),
    ("s_arg", "arg "),
    ("s_execve", "execve "),
    ("s_stat", "stat "),
    ("s_read", "read "),
    ("s_mmap", "mmap"),
    ("s_getcwd", "getcwd"),
    ("s_no_runfiles", "no runfiles: "),
    ("s_not_in_runfiles", "not in runfiles: "),
    ("s_chain_too_long", "manifest chain too long: "),
    ("s_escapes_root", "manifest chain escapes root: "),
    ("s_path_too_long", "path too long: "),
    ("s_newline", "\n"),
    ("s_empty", ""),
)


def cstring(text: str) -> str:
    """A NUL-terminated string as one .byte line (keystone's string directives differ
    between modes; bytes read the same everywhere)."""
    data = text.encode() + b"\0"
    return ".byte " + ", ".join(str(b) for b in data)


def render(arch: str) -> str:
    abi = abi_table.ARCHES[arch]
    offsets, size = frame.layout()
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(ASM_DIR / arch)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["cstring"] = cstring
    env.filters["chr"] = chr
    template = env.get_template("launcher.s.j2")
    return template.render(
        abi=abi, SYS=abi.syscalls, C=abi_table.CONST, E=abi_table.ERRNO,
        NAMED_ERRNOS=abi_table.NAMED_ERRNOS, F=offsets, FRAME_SIZE=size, STRINGS=STRINGS,
    )
