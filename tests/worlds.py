"""Worlds: the files a scenario runs in, as plain data.

A world is a tuple of nodes (files, directories, symlinks, the probe program and the
launcher itself). Node paths are relative to the world's root. Text that must name an
absolute path inside the world (manifest targets, symlink targets, environment values,
literal spec values, the launcher's AT_EXECFN) carries the placeholder ``ROOT``, which
is replaced by the root's absolute path when the world is placed somewhere: a temp dir
for the native runner, ``""`` for a chroot (so ``@ROOT@/bin/app`` becomes ``/bin/app``),
or an in-memory filesystem for the emulator runner (``render``).

Nothing here touches the filesystem except ``materialise``.
"""
from __future__ import annotations

import dataclasses
import os
import shutil
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterator, Union

ROOT = "@ROOT@"
_ROOT_B = ROOT.encode()


@dataclass(frozen=True)
class File:
    """A regular file. ``filler`` bytes of generated manifest lines (``filler_bytes``)
    come before ``data``: that is how a 64 MiB manifest stays a one-line description."""
    path: str = ""
    data: bytes = b""
    mode: int = 0o644
    filler: int = 0


@dataclass(frozen=True)
class Dir:
    path: str = ""
    mode: int = 0o755


@dataclass(frozen=True)
class Symlink:
    path: str = ""
    target: str = ""


@dataclass(frozen=True)
class Probe:
    """A copy of the static probe program (tests/probe.c), mode 0755."""
    path: str = ""


@dataclass(frozen=True)
class Launcher:
    """The launcher emitted from the scenario's spec, mode 0755."""
    path: str = ""


Node = Union[File, Dir, Symlink, Probe, Launcher]


def at(node: Node, path: str) -> Node:
    """The same node, placed at ``path``."""
    return dataclasses.replace(node, path=path)


def subst(text: str, root: str) -> str:
    return text.replace(ROOT, root)


def subst_b(data: bytes, root: str) -> bytes:
    return data.replace(_ROOT_B, os.fsencode(root)) if _ROOT_B in data else data


# --- manifests ---------------------------------------------------------------------

def manifest_line(link: str, target: str | None) -> bytes:
    """One manifest line the way Bazel writes it (R4): escaped (leading space, ``\\s``
    ``\\n`` ``\\b`` in the link, ``\\n`` ``\\b`` in the target) only when needed;
    ``target=None`` writes a link with no space at all (an empty file)."""
    if target is None:
        if any(c in link for c in " \n\\"):
            raise ValueError("an escaped line always has a space")
        return os.fsencode(link) + b"\n"
    if any(c in link for c in " \n\\") or any(c in target for c in "\n\\"):
        link = link.replace("\\", "\\b").replace(" ", "\\s").replace("\n", "\\n")
        target = target.replace("\\", "\\b").replace("\n", "\\n")
        return b" " + os.fsencode(link) + b" " + os.fsencode(target) + b"\n"
    return os.fsencode(link) + b" " + os.fsencode(target) + b"\n"


# Filler lines never match a scenario's rlocation path exactly, but they contain the
# near misses a scanner must step over: short prefixes of the usual paths (which lose
# to any longer match) and partial segments (``_main/app/pro`` is not a prefix of
# ``_main/app/prog`` at a segment boundary).
_FILLER_DECOYS = (
    b"_main /nonexistent/decoy/main\n"
    b"_main/app /nonexistent/decoy/app\n"
    b"_main/app/pro /nonexistent/decoy/pro\n"
    b"_main/app/prog2 /nonexistent/decoy/prog2\n"
    b"_main/data/tre /nonexistent/decoy/tre\n"
    b"_main/data /nonexistent/decoy/data\n"
)


@lru_cache(maxsize=4)
def filler_bytes(size: int) -> bytes:
    """At least ``size`` bytes of complete manifest lines, deterministic, fast
    (one 1 MiB block built once, then repeated with a block number)."""
    lines = [b"_main/filler/b@@@@/d%03d/file%05d.txt /nonexistent/filler/@@@@/%05d\n" % (i % 997, i, i)
             for i in range(16000)]
    lines[8000] = _FILLER_DECOYS
    block = b"".join(lines)
    count = max(1, -(-size // len(block)))
    return b"".join(block.replace(b"@@@@", b"%04d" % n) for n in range(count))


# --- placing a world ---------------------------------------------------------------

def render(world: tuple[Node, ...], root: str, launcher: bytes, probe: bytes
           ) -> Iterator[tuple[str, str, bytes, int]]:
    """The world as (absolute path, kind, payload, mode) with ``kind`` one of
    ``file`` ``dir`` ``symlink``; for an in-memory filesystem (big files are built
    in memory). Parent directories come first."""
    made: set[str] = set()

    def parents(rel: str) -> Iterator[tuple[str, str, bytes, int]]:
        parts = rel.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d not in made:
                made.add(d)
                yield root + "/" + d, "dir", b"", 0o755

    for node in world:
        yield from parents(node.path)
        path = root + "/" + node.path
        if isinstance(node, Dir):
            made.add(node.path)
            yield path, "dir", b"", node.mode
        elif isinstance(node, Symlink):
            yield path, "symlink", os.fsencode(subst(node.target, root)), 0o777
        elif isinstance(node, Probe):
            yield path, "file", probe, 0o755
        elif isinstance(node, Launcher):
            yield path, "file", launcher, 0o755
        else:
            data = subst_b(node.data, root)
            if node.filler:
                data = filler_bytes(node.filler) + data
            yield path, "file", data, node.mode


def materialise(world: tuple[Node, ...], base: Path, root: str, launcher: bytes,
                probe: Path, filler: Callable[[int], Path]) -> None:
    """Create the world's files under ``base``; ``root`` is what ``ROOT`` stands for
    (``str(base)`` natively, ``""`` for a chroot into ``base``). The probe is
    hard-linked from its build (copied across filesystems); a filler is copied from
    the file ``filler(size)`` holds, then the node's own data appended."""
    base = Path(base)
    for node in world:
        path = base / node.path
        if isinstance(node, Dir):
            path.mkdir(parents=True, exist_ok=True)
            os.chmod(path, node.mode)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(node, Symlink):
            os.symlink(subst(node.target, root), path)
        elif isinstance(node, Probe):
            try:
                os.link(probe, path)
            except OSError:
                shutil.copy2(probe, path)
        elif isinstance(node, Launcher):
            path.write_bytes(launcher)
            os.chmod(path, 0o755)
        else:
            if node.filler:
                shutil.copyfile(filler(node.filler), path)
                with open(path, "ab") as f:
                    f.write(subst_b(node.data, root))
            else:
                path.write_bytes(subst_b(node.data, root))
            os.chmod(path, node.mode)
