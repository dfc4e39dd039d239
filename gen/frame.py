"""The launcher's state frame: one table for both architectures.

The ELF has no writable segment (SPEC R10), so the launcher keeps its state in a
zeroed frame carved from the initial stack and addressed from one base register.
Fields are 8 bytes unless a size is given.  Offsets are biased so that on x86_64 every
field is within a signed 8-bit displacement of the base register.
"""
from __future__ import annotations

FIELDS = (
    ("argc", 8),        # launcher's argc
    ("argv", 8),        # launcher's argv array
    ("env", 8),         # current envp array (the stack's, then the child's)
    ("envn", 8),        # entries in it
    ("execfn", 8),      # AT_EXECFN or 0
    ("debug", 8),       # TINYLAUNCH_DEBUG non-empty (R9)
    ("rdir", 8),        # directory source, absolute, or 0 (R3)
    ("man", 8),         # manifest source, absolute, or 0
    ("mandir", 8),      # directory the manifest belongs to, or 0 (R5, R7)
    ("mbase", 8),       # manifest mapping
    ("mend", 8),        # its end
    ("mused", 8),       # the manifest R7 exports, else 0: set once a value is resolved
                        # through it (aarch64: at discovery when there is no directory)
    ("heap", 8),        # bump allocator: next free byte
    ("heap_end", 8),    # end of the current chunk
    ("rpath", 8),       # the rlocation path being resolved, for messages
    ("prog", 8),        # resolved program (the file passed to execve)
    ("logical", 8),     # dir "/" P of the last rlocation resolved, when a directory is known (R5)
    ("cargv", 8),       # the child's argv array
    ("numbuf", 16),     # "errno N" text
)

BIAS = 120   # base register = frame start + BIAS


def layout() -> tuple[dict[str, int], int]:
    """Biased offsets of every field of the frame (the same on both arches), and its size
    rounded to 16."""
    offsets, at = {}, 0
    for name, size in FIELDS:
        offsets[name] = at - BIAS
        at += size
    return offsets, (at + 15) & ~15
