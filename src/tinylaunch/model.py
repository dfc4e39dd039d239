"""The reference model: SPEC R1-R10 and docs/behaviour.md in plain Python.

This is the test oracle every launcher is compared with, byte for byte (execve's file,
argv, envp, the text on fd 2 and the exit status). It is also the readable version of
the assembly: the routines carry the names the assembly uses (``discover_sources``,
``resolve_rlocation``, ``scan_manifest``, ``decode_escapes``, ``apply_env_ops``,
``export_runfiles_env``, ``fail``).

Everything at run time is bytes; spec strings are encoded as UTF-8. ``execve`` itself
is not modelled: ``run`` returns the ``Exec`` a launcher would perform, and
``exec_failure`` builds the ``Failure`` a launcher reports when that execve fails.

The filesystem is injectable (``fs=``) so emulator tests can run the model over an
in-memory tree. A filesystem has two methods (``RealFS`` is the default):

``stat_mode(path: bytes) -> int``
    ``st_mode`` of ``stat(2)`` (symlinks followed); raises ``OSError`` with ``errno``.
``open_regular(path: bytes) -> ManifestFile | None``
    ``open(O_RDONLY)`` then ``fstat``: ``None`` when the open fails or the file is not
    regular, else a handle with ``read()`` (the whole contents as a bytes-like object
    supporting ``len``, slicing, ``find(sub, start, end)`` and ``re`` - ``bytes`` or
    ``mmap``; called once, when the manifest is accepted; may raise ``OSError``,
    reported as ``read <M>: <ERR>``) and ``close()``.
    ``BytesFile`` is such a handle over bytes held in memory.

Relative paths are handed to the filesystem already joined to ``cwd`` (see
``_fs_path``), so ``RealFS`` does not depend on the Python process's own working
directory. Two approximations follow: a relative path whose join with ``cwd`` is
longer than PATH_MAX fails here (ENAMETOOLONG) where the launcher's relative call
would not; and when ``cwd`` is an errno (getcwd fails, e.g. a removed directory),
relative paths go to the filesystem as they are, i.e. relative to this process's
working directory.

``run``'s ``cwd`` is what getcwd returns to the launcher, or an ``int``: the errno
getcwd fails with (reported when a relative source must be made absolute).
"""
from __future__ import annotations

import errno as _errno
import mmap
import os
import re
import stat as _stat
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Tuple, Union

from .abi import ERRNO, LIMITS, NAMED_ERRNOS
from .spec import Argv0Literal, EnvOp, Literal, Rlocation, Spec

__all__ = [
    "Exec", "Failure", "run", "exec_failure", "errno_text",
    "RealFS", "RealFile", "BytesFile", "Sources", "LaunchError", "fail",
    "absolutise", "discover_sources", "resolve_rlocation", "scan_manifest", "parse_line",
    "decode_escapes", "normalise", "manifest_dir", "env_get", "env_set", "env_unset",
    "apply_env_ops", "export_runfiles_env", "debug_enabled",
    "PATH_LIMIT", "MAX_HOPS",
]

PATH_LIMIT = LIMITS["PATH_LIMIT"]      # a path produced through the manifest must be shorter
MAX_HOPS = LIMITS["MAX_HOPS"]          # relative manifest targets followed per rlocation path
ST_NOT_FOUND = LIMITS["EXIT_NOT_FOUND"]
ST_CANNOT_EXEC = LIMITS["EXIT_CANNOT_EXEC"]
ST_LAUNCHER = LIMITS["EXIT_FAILURE"]

_ERRNO_NAMES = {ERRNO[name]: name.encode() for name in NAMED_ERRNOS}


# --------------------------------------------------------------------------- results

@dataclass
class Exec:
    """What the launcher passes to execve, and what it wrote to fd 2 before (R9)."""
    file: bytes
    argv: List[bytes]
    envp: List[bytes]
    stderr: bytes


@dataclass
class Failure:
    """A launch that stops (R8): the trace written so far plus the one error line."""
    status: int
    stderr: bytes


class LaunchError(Exception):
    """Raised by ``fail``; ``run`` turns it into a ``Failure``."""

    def __init__(self, what: bytes, detail: bytes, status: int):
        super().__init__(what, detail, status)
        self.what, self.detail, self.status = what, detail, status

    def line(self) -> bytes:
        return b"tinylaunch: " + self.what + b": " + self.detail + b"\n"


def fail(what: bytes, detail: bytes, status: int):
    """R8: stop here; the launcher writes ``tinylaunch: <what>: <detail>`` and exits."""
    raise LaunchError(what, detail, status)


def errno_text(err: int) -> bytes:
    """``<ERR>`` of an error line: the name for the common ones, else ``errno N``."""
    return _ERRNO_NAMES.get(err, b"errno %d" % err)


def exec_failure(file: bytes, err: int, trace: bytes = b"") -> Failure:
    """The failure a launcher reports when execve(file) returns -err (R8)."""
    if err in (ERRNO["ENOENT"], ERRNO["ENOTDIR"]):
        status = ST_NOT_FOUND
    elif err in (ERRNO["E2BIG"], ERRNO["ENOMEM"]):
        status = ST_LAUNCHER
    else:
        status = ST_CANNOT_EXEC
    return Failure(status, trace + b"tinylaunch: exec " + file + b": " + errno_text(err) + b"\n")


# --------------------------------------------------------------------------- filesystem

class RealFile:
    """An open regular file; ``read`` maps it once (no copy of large manifests)."""

    def __init__(self, fd: int):
        self._fd: Optional[int] = fd
        self._data: Union[bytes, mmap.mmap, None] = None

    def read(self):
        if self._data is None:
            assert self._fd is not None
            size = os.fstat(self._fd).st_size
            self._data = mmap.mmap(self._fd, 0, prot=mmap.PROT_READ) if size else b""
        return self._data

    def close(self) -> None:
        if isinstance(self._data, mmap.mmap):
            try:
                self._data.close()
            except BufferError:      # a caller still holds a view; the GC unmaps it
                pass
        self._data = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class BytesFile:
    """A manifest handle over bytes in memory (for injected filesystems)."""

    def __init__(self, data: bytes):
        self._data = data

    def read(self) -> bytes:
        return self._data

    def close(self) -> None:
        pass


class RealFS:
    """The real filesystem, through the same system calls a launcher makes."""

    def stat_mode(self, path: bytes) -> int:
        return os.stat(path).st_mode

    def open_regular(self, path: bytes) -> Optional[RealFile]:
        """stat first, open only a regular file: a FIFO is never opened (it would block)."""
        try:
            if not _stat.S_ISREG(os.stat(path).st_mode):
                return None
            return RealFile(os.open(path, os.O_RDONLY | os.O_CLOEXEC))
        except (OSError, ValueError):
            return None


def _is_dir(fs, path: bytes) -> bool:
    try:
        return _stat.S_ISDIR(fs.stat_mode(path))
    except OSError:
        return False


# --------------------------------------------------------------------------- discovery (R3)

CwdLike = Union[bytes, int]   # the getcwd result, or the errno getcwd fails with


def absolutise(path: bytes, cwd: CwdLike) -> bytes:
    """An accepted source path made absolute: kept if absolute, else every leading
    ``./`` removed and ``cwd + "/"`` put in front (no second ``/`` when cwd is ``/``).
    ``cwd`` given as an int is the errno getcwd fails with: ``getcwd: <ERR>``, 125."""
    if path.startswith(b"/"):
        return path
    while path.startswith(b"./"):
        path = path[2:]
    if isinstance(cwd, int):
        fail(b"getcwd", errno_text(cwd), ST_LAUNCHER)
    return cwd + path if cwd.endswith(b"/") else cwd + b"/" + path


def _fs_path(path: bytes, cwd: CwdLike) -> bytes:
    """The path a filesystem call sees: relative paths are relative to ``cwd``."""
    if path.startswith(b"/") or isinstance(cwd, int) or not path:
        return path
    return cwd + path if cwd.endswith(b"/") else cwd + b"/" + path


@dataclass
class Sources:
    """The sources of the chosen tier (absolute paths), and the open manifest."""
    directory: Optional[bytes] = None
    manifest: Optional[bytes] = None
    manifest_file: object = None
    tier: int = 0
    _data: object = field(default=None, repr=False)
    _has_escaped: Optional[bool] = field(default=None, repr=False)

    def found(self) -> bool:
        return self.directory is not None or self.manifest is not None

    def manifest_data(self):
        """The manifest's contents (read when it was accepted)."""
        if self._has_escaped is None:
            self._has_escaped = _has_escaped_lines(self._data)
        return self._data

    def close(self) -> None:
        if self.manifest_file is not None:
            self.manifest_file.close()


def env_get(envp: List[bytes], name: bytes) -> Optional[bytes]:
    """The value of the first ``NAME=`` entry, or None."""
    prefix = name + b"="
    for entry in envp:
        if entry.startswith(prefix):
            return entry[len(prefix):]
    return None


def discover_sources(envp: List[bytes], execfn: Optional[bytes], cwd: CwdLike, fs) -> Sources:
    """R3: the first tier that yields any source. Never fails by itself, except when
    getcwd fails while making an accepted relative source absolute, or an accepted
    manifest cannot be mapped."""
    found = Sources()
    try:
        return _discover(found, envp, execfn, cwd, fs)
    except LaunchError:
        found.close()
        raise


def _discover(found: Sources, envp, execfn, cwd, fs) -> Sources:

    def accept_dir(path: Optional[bytes]) -> None:
        if path and _is_dir(fs, _fs_path(path, cwd)):
            found.directory = absolutise(path, cwd)

    def accept_manifest(path: Optional[bytes]) -> bool:
        if not path:
            return False
        handle = fs.open_regular(_fs_path(path, cwd))
        if handle is None:
            return False
        try:              # mapped whole on acceptance; the error names M as found
            data = handle.read()
        except OSError as e:
            handle.close()
            fail(b"read " + path, errno_text(e.errno or 0), ST_LAUNCHER)
        found.manifest_file, found._data = handle, data
        found.manifest = absolutise(path, cwd)
        return True

    # Tier 1: the environment.
    accept_dir(env_get(envp, b"RUNFILES_DIR"))
    accept_manifest(env_get(envp, b"RUNFILES_MANIFEST_FILE"))
    if found.found() or execfn is None:
        found.tier = 1 if found.found() else 0
        return found
    # Tier 2: beside the launcher.
    accept_dir(execfn + b".runfiles")
    if not accept_manifest(execfn + b".runfiles_manifest"):
        accept_manifest(execfn + b".runfiles/MANIFEST")
    if found.found():
        found.tier = 2
        return found
    # Tier 3: inside a tree - the last segment ending in ".runfiles" that is not the last.
    end = -1
    for m in re.finditer(rb"\.runfiles/", execfn):
        end = m.start() + len(b".runfiles")
    if end >= 0:
        found.directory = absolutise(execfn[:end], cwd)
        accept_manifest(found.directory + b"/MANIFEST")     # D is absolute already
        found.tier = 3
    return found


def manifest_dir(manifest: bytes) -> Optional[bytes]:
    """The runfiles directory a manifest belongs to (R5, R7): ``X.runfiles_manifest``
    gives ``X.runfiles``, ``X/MANIFEST`` gives ``X``; else None. Existence not checked."""
    if manifest.endswith(b".runfiles_manifest") or manifest.endswith(b"/MANIFEST"):
        return manifest[:-9]
    return None


# --------------------------------------------------------------------------- manifest (R4)

_LINK_ESCAPE = re.compile(rb"\\([snb])")
_TARGET_ESCAPE = re.compile(rb"\\([nb])")
_DECODED = {b"s": b" ", b"n": b"\n", b"b": b"\\"}


def decode_escapes(text: bytes, link: bool) -> bytes:
    """Escaped-line decoding, left to right: ``\\s`` (link only), ``\\n``, ``\\b``;
    a backslash before any other byte, or at the end, stays and decoding goes on at
    the next byte (so ``\\\\n`` is a backslash and a newline)."""
    if b"\\" not in text:
        return text
    pattern = _LINK_ESCAPE if link else _TARGET_ESCAPE
    return pattern.sub(lambda m: _DECODED[m.group(1)], text)


def parse_line(line: bytes) -> Tuple[bytes, bytes]:
    """One non-empty manifest line (without its newline) -> (link, target)."""
    escaped = line.startswith(b" ")
    if escaped:
        line = line[1:]
    link, _, target = line.partition(b" ")
    if escaped:
        link, target = decode_escapes(link, True), decode_escapes(target, False)
    return link, target.partition(b"\0")[0]      # a path ends at its first NUL


def _has_escaped_lines(data) -> bool:
    return data[:1] == b" " or data.find(b"\n ") >= 0


def _escaped_link_pattern(link: bytes) -> bytes:
    """A regex for every escaped spelling of ``link`` (decoding is not one to one:
    ``\\x`` and ``\\bx`` both decode to backslash x)."""
    out = []
    for byte in link:
        if byte == 0x20:
            out.append(rb"\\s")
        elif byte == 0x0A:
            out.append(rb"\\n")
        elif byte == 0x5C:
            out.append(rb"\\(?:b|(?![snb]))")
        else:
            out.append(re.escape(bytes([byte])))
    return b"".join(out) + rb"(?=[ \n]|\Z)"


def _first_line_with_link(data, link: bytes, has_escaped: bool) -> int:
    """Start offset of the first line whose (decoded) link is ``link``, or -1.
    Done with ``find``/``re`` over the whole buffer: C speed, no per-line Python."""
    size, n = len(data), len(link)
    best = -1
    if b" " not in link and b"\n" not in link:          # a plain line can hold it
        if data[:n] == link and data[n:n + 1] in (b"", b" ", b"\n"):
            return 0
        end = size
        for tail in (b" ", b"\n"):
            at = data.find(b"\n" + link + tail, 0, end)
            if at >= 0:
                best, end = at + 1, at + n + 2
        if best < 0 and size > n and data[size - n - 1:] == b"\n" + link:
            best = size - n
    if has_escaped:
        body = _escaped_link_pattern(link)
        if re.match(b" " + body, data):
            return 0
        m = re.compile(b"\n " + body).search(data)
        if m and (best < 0 or m.start() + 1 < best):
            best = m.start() + 1
    return best


def scan_manifest(data, key: bytes, has_escaped: Optional[bool] = None
                  ) -> Optional[Tuple[bytes, bytes, Optional[bytes]]]:
    """R4 lookup of ``key``: the first line whose link is ``key``, else the first line
    of the longest link ``L`` with ``key == L + "/" + rest``. Returns ``(link, target,
    rest)`` (``rest`` None for an exact match) or None.

    The launcher does this in one pass over the lines; the model asks, longest
    candidate first, for the first line of each candidate link - the same answer,
    since the candidates are ``key`` and its prefixes that end before a ``/``."""
    if has_escaped is None:
        has_escaped = _has_escaped_lines(data)
    candidates = [len(key)] + [i for i in range(len(key) - 1, 0, -1) if key[i] == 0x2F]
    for cut in candidates:
        link = key[:cut]
        start = _first_line_with_link(data, link, has_escaped)
        if start < 0:
            continue
        stop = data.find(b"\n", start)
        line = data[start:stop if stop >= 0 else len(data)]
        found_link, target = parse_line(line)
        assert found_link == link, (found_link, link)
        return link, target, (None if cut == len(key) else key[cut + 1:])
    return None


def normalise(path: bytes) -> Optional[bytes]:
    """Drop empty and ``.`` segments, let ``..`` remove the previous one.
    None when ``..`` has nothing to remove or nothing is left (escapes the root)."""
    segments: List[bytes] = []
    for segment in path.split(b"/"):
        if segment in (b"", b"."):
            continue
        if segment == b"..":
            if not segments:
                return None
            segments.pop()
        else:
            segments.append(segment)
    return b"/".join(segments) if segments else None


def _resolve_through_manifest(p: bytes, sources: Sources) -> bytes:
    """R4.2: exact/longest-prefix line, relative targets followed as symlinks."""
    data = sources.manifest_data()
    path, hops = p, 0
    while True:
        hit = scan_manifest(data, path, sources._has_escaped)
        if hit is None:
            fail(b"not in runfiles", p, ST_NOT_FOUND)
        link, target, rest = hit
        tail = b"" if rest is None else b"/" + rest
        if target == b"" or target.startswith(b"/"):
            result = (target or b"/dev/null") + tail
            if len(result) >= PATH_LIMIT:
                fail(b"path too long", p, ST_LAUNCHER)
            return result
        if hops == MAX_HOPS:
            fail(b"too many hops", p, ST_LAUNCHER)
        hops += 1
        dirname = link[:link.rfind(b"/")] if b"/" in link else b""
        q = normalise(dirname + b"/" + target + tail)
        if q is None:
            fail(b"chain escapes root", p, ST_LAUNCHER)
        if len(q) >= PATH_LIMIT:
            fail(b"path too long", p, ST_LAUNCHER)
        path = q


def resolve_rlocation(p: bytes, sources: Sources, fs) -> Tuple[bytes, bool]:
    """R4: the path for rlocation path ``p``, and whether the manifest gave it."""
    if not sources.found():
        fail(b"no runfiles", p, ST_NOT_FOUND)
    in_tree = None
    if sources.directory is not None:
        in_tree = sources.directory + b"/" + p
        try:
            fs.stat_mode(in_tree)
            return in_tree, False
        except OSError as e:
            if e.errno not in (_errno.ENOENT, _errno.ENOTDIR):
                fail(b"stat " + in_tree, errno_text(e.errno or 0), ST_LAUNCHER)
    if sources.manifest is not None:
        return _resolve_through_manifest(p, sources), True
    return in_tree, False        # a directory source only: D/P, existing or not


# --------------------------------------------------------------------------- environment (R6, R7)

def env_set(envp: List[bytes], name: bytes, value: bytes) -> None:
    """Replace the first ``NAME=`` entry, else append."""
    prefix = name + b"="
    for i, entry in enumerate(envp):
        if entry.startswith(prefix):
            envp[i] = prefix + value
            return
    envp.append(prefix + value)


def env_unset(envp: List[bytes], name: bytes) -> None:
    """Remove every ``NAME=`` entry."""
    prefix = name + b"="
    envp[:] = [entry for entry in envp if not entry.startswith(prefix)]


def apply_env_ops(envp: List[bytes], ops, value_of: Callable[[object], bytes]) -> List[bytes]:
    """R6: the ops in spec order on a copy of ``envp``; each op's value is resolved
    (``value_of``) when the op is applied."""
    env = list(envp)
    for op in ops:
        name = op.name.encode()
        if op.op == "unset":
            env_unset(env, name)
            continue
        new = value_of(op.value)
        old = env_get(env, name)
        if op.op == "set":
            env_set(env, name, new)
        elif op.op == "default":
            if old is None:
                env.append(name + b"=" + new)
        elif op.op in ("prepend", "append"):
            sep = op.separator.encode()
            if old:
                new = new + sep + old if op.op == "prepend" else old + sep + new
            env_set(env, name, new)
        else:
            raise ValueError("unknown env op %r" % (op.op,))
    return env


def export_runfiles_env(envp: List[bytes], sources: Sources, manifest_used: bool, fs) -> List[bytes]:
    """R7, after the env ops, when export is on and a source was found."""
    env = list(envp)
    if sources.directory is not None:
        env_set(env, b"RUNFILES_DIR", sources.directory)
        env_set(env, b"JAVA_RUNFILES", sources.directory)
        if manifest_used:
            env_set(env, b"RUNFILES_MANIFEST_FILE", sources.manifest)
        else:
            env_unset(env, b"RUNFILES_MANIFEST_FILE")
        return env
    directory = manifest_dir(sources.manifest)
    if directory is not None and _is_dir(fs, directory):
        env_set(env, b"RUNFILES_DIR", directory)
        env_set(env, b"JAVA_RUNFILES", directory)
    else:
        env_unset(env, b"RUNFILES_DIR")
        env_unset(env, b"JAVA_RUNFILES")
    env_set(env, b"RUNFILES_MANIFEST_FILE", sources.manifest)
    return env


# --------------------------------------------------------------------------- the launch

def debug_enabled(envp: List[bytes]) -> bool:
    """R9: the first ``TINYLAUNCH_DEBUG=`` entry has a non-empty value."""
    return bool(env_get(envp, b"TINYLAUNCH_DEBUG"))


def run(spec: Spec, argv: List[bytes], envp: List[bytes], execfn: Optional[bytes],
        cwd: CwdLike, fs=None) -> Union[Exec, Failure]:
    """One launch. ``argv``/``envp`` are the launcher's, ``execfn`` its AT_EXECFN
    (None: absent), ``cwd`` what getcwd returns (an int: the errno it fails with)."""
    fs = RealFS() if fs is None else fs
    debug = debug_enabled(envp)
    trace = bytearray()

    def say(line: bytes) -> None:
        if debug:
            trace.extend(b"tinylaunch: " + line + b"\n")

    sources = Sources()
    manifest_used = False

    def value_of(value) -> bytes:
        nonlocal manifest_used
        if isinstance(value, Literal):
            return value.text.encode()
        p = value.path.encode()
        result, via_manifest = resolve_rlocation(p, sources, fs)
        manifest_used = manifest_used or via_manifest
        say(p + b" -> " + result)
        return result

    try:
        if spec.needs_runfiles():
            sources = discover_sources(envp, execfn, cwd, fs)
            if sources.directory is not None:
                say(b"RUNFILES_DIR=" + sources.directory)
            if sources.manifest is not None:
                say(b"RUNFILES_MANIFEST_FILE=" + sources.manifest)
        file = value_of(spec.program)
        argv0 = _argv0(spec, file, argv, sources)
        args = [argv0] + [value_of(v) for v in spec.args] + list(argv[1:])
        env = apply_env_ops(envp, spec.env, value_of)
        if spec.export_runfiles_env and sources.found():
            env = export_runfiles_env(env, sources, manifest_used, fs)
        say(b"exec " + file)
        for arg in args:
            say(b"arg " + arg)
        return Exec(file=file, argv=args, envp=env, stderr=bytes(trace))
    except LaunchError as e:
        return Failure(status=e.status, stderr=bytes(trace) + e.line())
    finally:
        sources.close()


def _argv0(spec: Spec, file: bytes, argv: List[bytes], sources: Sources) -> bytes:
    """R5 argv[0] by mode."""
    mode = spec.argv0
    if isinstance(mode, Argv0Literal):
        return mode.text.encode()
    if mode == "resolved":
        return file
    if mode == "launcher":
        return argv[0] if argv else b""
    if mode != "logical":
        raise ValueError("unknown argv0 mode %r" % (mode,))
    if isinstance(spec.program, Rlocation):
        directory = sources.directory
        if directory is None and sources.manifest is not None:
            directory = manifest_dir(sources.manifest)
        if directory is not None:
            return directory + b"/" + spec.program.path.encode()
    return file
