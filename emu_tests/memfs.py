"""An in-memory Linux filesystem for the emulated launcher, and the model's view of it.

One tree serves both sides of a comparison: the syscall layer (syscalls.py) walks it
for the emulated launcher, and ``ModelFS`` hands the same tree to
``tinylaunch.model.run`` through the model's injectable filesystem protocol
(``stat_mode`` / ``open_regular``). So the launcher and the model always look at the
same world, byte for byte.

Path walking follows Linux's namei closely enough for what launchers do:

- absolute paths start at ``/``, relative ones at the working directory;
- empty and ``.`` components stay put, ``..`` goes to the parent (``/..`` is ``/``);
- a path of ``PATH_MAX`` (4,096) bytes or more, or a component longer than
  ``NAME_MAX`` (255), is ``ENAMETOOLONG``; an empty path is ``ENOENT``;
- looking a name up in something that is not a directory is ``ENOTDIR``; in a
  directory without search (x) permission ``EACCES``; a missing name ``ENOENT``;
- symlinks (absolute or relative to the directory holding them) are followed in every
  component but the last, and in the last unless asked not to; a trailing ``/``
  requires a directory and follows a final symlink; more than 40 symlinks in one walk
  is ``ELOOP`` (Linux's MAXSYMLINKS); an empty symlink target is ``ENOENT``;
- a removed working directory (``remove_cwd``) still answers ``.`` and ``..`` but no
  other name (Linux's IS_DEADDIR), and ``getcwd`` fails with ``ENOENT``.

Permissions: the launcher runs as the owner of every file (uid/gid 1000, not root), so
the owner bits decide: r to open for reading, x to search a directory or execute a file.
"""
from __future__ import annotations

import errno as E
import os
import stat as S
from dataclasses import dataclass
from typing import Dict, Iterable, Optional, Tuple, Union

from tinylaunch.model import BytesFile

PATH_MAX = 4096
NAME_MAX = 255
MAXSYMLINKS = 40
UID = GID = 1000


class FsError(Exception):
    """A failed filesystem operation; ``errno`` is what the syscall returns negated."""

    def __init__(self, err: int):
        super().__init__(err, os.strerror(err))
        self.errno = err


@dataclass(eq=False)
class Node:
    mode: int                                   # st_mode: type and permission bits
    ino: int = 0
    data: bytes = b""                           # a regular file's contents
    target: bytes = b""                         # a symlink's target
    children: Optional[Dict[bytes, "Node"]] = None   # a directory's entries
    parent: Optional["Node"] = None             # a directory's parent (itself for /)
    name: bytes = b""                           # a directory's name in its parent
    deleted: bool = False                       # a removed directory (kept alive as a cwd)

    @property
    def kind(self) -> int:
        return S.S_IFMT(self.mode)

    def is_dir(self) -> bool:
        return self.kind == S.S_IFDIR

    def size(self) -> int:
        if self.kind == S.S_IFREG:
            return len(self.data)
        if self.kind == S.S_IFLNK:
            return len(self.target)
        if self.kind == S.S_IFDIR:
            return 4096
        return 0

    def can(self, bit: int) -> bool:
        """Owner permission: ``bit`` is 4 (read), 2 (write) or 1 (execute/search)."""
        return bool(self.mode & (bit << 6))


class MemFS:
    """A tree of ``Node``s with a working directory."""

    def __init__(self) -> None:
        self._ino = 1
        self.root = self._new(S.S_IFDIR | 0o755, children={})
        self.root.parent = self.root
        self.cwd = self.root
        dev = self.mkdir(b"/dev")
        dev.children[b"null"] = self._new(S.S_IFCHR | 0o666)

    # --- building ---------------------------------------------------------------------

    def _new(self, mode: int, **kw) -> Node:
        self._ino += 1
        return Node(mode=mode, ino=self._ino, **kw)

    def _parent_and_name(self, path: bytes) -> Tuple[Node, bytes]:
        path = path.rstrip(b"/")
        head, _, name = path.rpartition(b"/")
        if not name or name in (b".", b".."):
            raise ValueError(f"cannot create {path!r}")
        parent = self.mkdir(head or b"/", exist_ok=True)
        return parent, name

    def mkdir(self, path: bytes, mode: int = 0o755, exist_ok: bool = True) -> Node:
        """Create a directory and its missing parents (``mkdir -p``); an existing one
        gets ``mode``."""
        node = self.root
        for part in [p for p in path.split(b"/") if p]:
            child = node.children.get(part)
            if child is None:
                child = self._new(S.S_IFDIR | 0o755, children={}, parent=node, name=part)
                node.children[part] = child
            elif child.kind == S.S_IFLNK:
                child = self.lookup(self.path_of(node) + b"/" + part)
            if not child.is_dir():
                raise ValueError(f"{path!r}: {part!r} is not a directory")
            node = child
        if node is not self.root:
            node.mode = S.S_IFDIR | (mode & 0o7777)
        return node

    def add_file(self, path: bytes, data: bytes = b"", mode: int = 0o644) -> Node:
        parent, name = self._parent_and_name(path)
        node = self._new(S.S_IFREG | (mode & 0o7777), data=bytes(data))
        parent.children[name] = node
        return node

    def add_symlink(self, path: bytes, target: bytes) -> Node:
        parent, name = self._parent_and_name(path)
        node = self._new(S.S_IFLNK | 0o777, target=bytes(target))
        parent.children[name] = node
        return node

    def populate(self, entries: Iterable[Tuple[str, str, bytes, int]]) -> "MemFS":
        """Add ``(absolute path, kind, payload, mode)`` entries as ``worlds.render``
        yields them (kind ``file``, ``dir`` or ``symlink``)."""
        for path, kind, payload, mode in entries:
            p = os.fsencode(path)
            if kind == "dir":
                self.mkdir(p, mode)
            elif kind == "symlink":
                self.add_symlink(p, payload)
            elif kind == "file":
                self.add_file(p, payload, mode)
            else:
                raise ValueError(f"unknown kind {kind!r} for {path!r}")
        return self

    def chdir(self, path: bytes) -> None:
        node = self.lookup(path)
        if not node.is_dir():
            raise FsError(E.ENOTDIR)
        self.cwd = node

    def remove_cwd(self) -> None:
        """rmdir the working directory while the process stays in it."""
        node = self.cwd
        if node is self.root:
            raise ValueError("cannot remove /")
        del node.parent.children[node.name]
        node.deleted = True

    # --- walking ------------------------------------------------------------------------

    def path_of(self, node: Node) -> bytes:
        """The canonical absolute path of a directory (what getcwd reports)."""
        parts = []
        while node is not self.root:
            parts.append(node.name)
            node = node.parent
        return b"/" + b"/".join(reversed(parts))

    def lookup(self, path: bytes, follow: bool = True, base: Optional[Node] = None) -> Node:
        """The node ``path`` names (see the module docstring); raises ``FsError``."""
        if len(path) >= PATH_MAX:
            raise FsError(E.ENAMETOOLONG)
        if not path:
            raise FsError(E.ENOENT)
        budget = [MAXSYMLINKS]
        return self._walk(path, self.cwd if base is None else base, follow, budget)

    def _walk(self, path: bytes, base: Node, follow: bool, budget: list) -> Node:
        node = self.root if path.startswith(b"/") else base
        must_be_dir = path.endswith(b"/")
        parts = [p for p in path.split(b"/") if p]
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if not node.is_dir():
                raise FsError(E.ENOTDIR)
            if not node.can(1):
                raise FsError(E.EACCES)
            if len(part) > NAME_MAX:            # the filesystem's lookup says so, after those
                raise FsError(E.ENAMETOOLONG)
            if part == b".":
                continue
            if part == b"..":
                node = node.parent
                continue
            if node.deleted:
                raise FsError(E.ENOENT)
            child = node.children.get(part)
            if child is None:
                raise FsError(E.ENOENT)
            if child.kind == S.S_IFLNK and (not last or follow or must_be_dir):
                budget[0] -= 1
                if budget[0] < 0:
                    raise FsError(E.ELOOP)
                if not child.target:
                    raise FsError(E.ENOENT)
                child = self._walk(child.target, node, True, budget)
            node = child
        if must_be_dir and not node.is_dir():
            raise FsError(E.ENOTDIR)
        return node

    # --- the operations launchers and the model need --------------------------------------

    def stat(self, path: bytes, follow: bool = True) -> Node:
        return self.lookup(path, follow)

    def open_read(self, path: bytes, follow: bool = True) -> Node:
        """open(path, O_RDONLY): needs read permission; a directory opens too."""
        node = self.lookup(path, follow)
        if node.kind == S.S_IFLNK:            # O_NOFOLLOW on a symlink
            raise FsError(E.ELOOP)
        if not node.can(4):
            raise FsError(E.EACCES)
        return node

    def getcwd(self) -> Union[bytes, int]:
        """What getcwd(2) reports: the canonical path, or ENOENT for a removed cwd."""
        return E.ENOENT if self.cwd.deleted else self.path_of(self.cwd)

    def exec_check(self, path: bytes, depth: int = 0) -> Optional[int]:
        """The errno execve(path) fails with here, or None when it would run.
        Regular file with x permission; ELF (``\\x7fELF``) or ``#!`` (whose interpreter
        must pass the same check, at most 4 levels: ELOOP); else ENOEXEC. Argument
        sizes are checked by the syscall layer."""
        try:
            node = self.lookup(path)
        except FsError as e:
            return e.errno
        if node.kind != S.S_IFREG or not node.can(1):
            return E.EACCES
        if node.data.startswith(b"\x7fELF"):
            return None
        if node.data.startswith(b"#!"):
            if depth >= 4:
                return E.ELOOP
            line = node.data[2:].split(b"\n", 1)[0].strip()
            interpreter = line.split()[0] if line.split() else b""
            if not interpreter:
                return E.ENOEXEC
            return self.exec_check(interpreter, depth + 1)
        return E.ENOEXEC


class ModelFS:
    """``tinylaunch.model``'s filesystem protocol over a ``MemFS``: the model sees the
    very tree the emulated launcher walks. Relative paths (the model hands them over
    only when getcwd fails) are relative to the tree's working directory."""

    def __init__(self, fs: MemFS):
        self.fs = fs

    def stat_mode(self, path: bytes) -> int:
        try:
            return self.fs.stat(path).mode
        except FsError as e:
            raise OSError(e.errno, os.strerror(e.errno), path) from None

    def open_regular(self, path: bytes) -> Optional[BytesFile]:
        try:
            node = self.fs.open_read(path)
        except FsError:
            return None
        return BytesFile(node.data) if node.kind == S.S_IFREG else None


def build_fs(entries, cwd: bytes, cwd_deleted: bool = False) -> MemFS:
    """A tree from ``worlds.render`` entries, with its working directory set."""
    fs = MemFS().populate(entries)
    fs.chdir(cwd)
    if cwd_deleted:
        fs.remove_cwd()
    return fs
