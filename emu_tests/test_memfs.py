"""The in-memory filesystem against the real kernel, and the syscall handlers' results.

Worlds from the scenario table (and one of symlink corner cases) are placed both on
disk and in memory under the same absolute root; stat, lstat, open and getcwd must give
the same answer (file type and size, or errno) for every node and for derived paths:
trailing '/', '.', '..', a missing child, a child of a file, '//' and a 300-byte
component.
"""
from __future__ import annotations

import errno as E
import os
import random
import stat as S
import struct

import pytest
import unicorn as uc

import scenarios as S_
from worlds import Dir, File, Symlink, materialise, render

from .harness import PROBE, arch_params
from .loader import EMU_ARCHES, AddressSpace
from .memfs import FsError, MemFS, build_fs
from .syscalls import AT_FDCWD, Kernel

SYMLINKS = (
    Dir("d"), File("d/f", b"data"), Symlink("d/rel", "f"), Symlink("d/up", "../d/f"),
    Symlink("d/abs", "@ROOT@/d/f"), Symlink("d/dangling", "nope"), Symlink("d/self", "self"),
    Symlink("d/ping", "pong"), Symlink("d/pong", "ping"), Symlink("d/todir", "."),
    Symlink("d/chain1", "chain2"), Symlink("d/chain2", "todir/rel"), Symlink("d/tofile_dir", "f/"),
    Symlink("lnk", "d"), Symlink("root_up", "../../.."), File("d/noexec", b"#!/x", 0o644),
    Dir("d/sub/deeper"), Symlink("d/sub/back", "../../lnk/sub"),
)
WORLDS = {name: S_.BY_NAME[name].world for name in (
    "tier2_launcher_via_symlink", "exec_eloop", "dir_stat_eloop_is_fatal", "relative_execfn_cwd_via_symlink",
    "tier2_runfiles_dir_symlink", "dir_enotdir_goes_on_to_manifest", "c1_example_both", "tier3_innermost_tree")}
WORLDS["symlinks"] = SYMLINKS


def probes(world, root):
    rels = {""}
    for node in world:
        parts = node.path.split("/")
        rels.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
    out = []
    for rel in sorted(rels):
        p = root + ("/" + rel if rel else "")
        out += [p, p + "/", p + "/.", p + "/..", p + "/missing", p + "/x/y", p + "//", p + "/" + "n" * 300]
    return [os.fsencode(p) for p in out]


def real_answer(fn):
    try:
        return ("ok",) + fn()
    except OSError as e:
        return ("err", E.errorcode[e.errno])


def mem_answer(fn):
    try:
        return ("ok",) + fn()
    except FsError as e:
        return ("err", E.errorcode[e.errno])


@pytest.mark.parametrize("name", sorted(WORLDS))
def test_memfs_agrees_with_the_kernel(name, tmp_path):
    world = WORLDS[name]
    base = tmp_path / "w"
    base.mkdir()
    root = os.path.realpath(base)
    probe = tmp_path / "probe"
    probe.write_bytes(PROBE)
    materialise(world, base, root, b"\x7fELF launcher", probe, lambda size: None)
    fs = build_fs(render(world, root, b"\x7fELF launcher", PROBE), os.fsencode(root))
    diffs = []
    for path in probes(world, root):
        for what, real, mem in (
            ("stat", lambda: (S.S_IFMT(os.stat(path).st_mode), os.stat(path).st_size if S.S_ISREG(os.stat(path).st_mode) else 0),
             lambda: (fs.stat(path).kind, fs.stat(path).size() if fs.stat(path).kind == S.S_IFREG else 0)),
            ("lstat", lambda: (S.S_IFMT(os.lstat(path).st_mode),), lambda: (fs.stat(path, follow=False).kind,)),
            ("open", lambda: (os.close(os.open(path, os.O_RDONLY)) or 0,), lambda: (fs.open_read(path) and 0,)),
        ):
            r, m = real_answer(real), mem_answer(mem)
            if r != m:
                shown = path.decode()[len(root):].replace("n" * 300, "n{300}") or "/"
                diffs.append(f"{what} {shown}: kernel {r}, memfs {m}")
    assert not diffs, "\n".join(diffs[:30])


def test_relative_lookups_and_getcwd(tmp_path):
    base = tmp_path / "w"
    base.mkdir()
    root = os.path.realpath(base)
    materialise(SYMLINKS, base, root, b"", tmp_path, lambda size: None)
    fs = build_fs(render(SYMLINKS, root, b"", PROBE), os.fsencode(root + "/lnk/sub"))
    assert fs.getcwd() == os.fsencode(root + "/d/sub"), "getcwd reports the path with symlinks resolved"
    dfd = os.open(root + "/lnk/sub", os.O_RDONLY)
    try:
        for rel in (b".", b"..", b"back", b"back/deeper", b"../f", b"../../lnk/rel", b"deeper/../../up", b"x"):
            r = real_answer(lambda: (S.S_IFMT(os.stat(rel, dir_fd=dfd).st_mode),))
            m = mem_answer(lambda: (fs.stat(rel).kind,))
            assert r == m, rel
    finally:
        os.close(dfd)
    fs.remove_cwd()
    assert fs.getcwd() == E.ENOENT
    assert fs.stat(b".").is_dir()
    with pytest.raises(FsError) as info:
        fs.stat(b"deeper")
    assert info.value.errno == E.ENOENT


def test_exec_check():
    fs = MemFS()
    fs.add_file(b"/bin/ok", PROBE, 0o755)
    fs.add_file(b"/bin/noexec", PROBE, 0o644)
    fs.add_file(b"/bin/garbage", b"\x00\x01", 0o755)
    fs.add_file(b"/bin/script", b"#!/bin/ok -x\n", 0o755)
    fs.add_file(b"/bin/script_missing", b"#!/nope\n", 0o755)
    fs.add_symlink(b"/bin/loop", b"loop")
    assert fs.exec_check(b"/bin/ok") is None
    assert fs.exec_check(b"/bin/script") is None
    assert fs.exec_check(b"/bin/noexec") == E.EACCES
    assert fs.exec_check(b"/bin") == E.EACCES
    assert fs.exec_check(b"/dev/null") == E.EACCES
    assert fs.exec_check(b"/bin/garbage") == E.ENOEXEC
    assert fs.exec_check(b"/bin/script_missing") == E.ENOENT
    assert fs.exec_check(b"/bin/loop") == E.ELOOP
    assert fs.exec_check(b"/bin/ok/x") == E.ENOTDIR
    assert fs.exec_check(b"/" + b"n" * 300) == E.ENAMETOOLONG


# --- the handlers, called directly -----------------------------------------------------

@pytest.fixture(params=arch_params())
def kernel(request):
    arch = request.param
    a = EMU_ARCHES[arch]
    emu = uc.Uc(a.uc_arch, a.uc_mode)
    space = AddressSpace(emu, a, random.Random(1))
    space.map(0x10000, 0x10000, uc.UC_PROT_READ | uc.UC_PROT_WRITE, "scratch")
    fs = MemFS()
    fs.add_file(b"/w/file", b"0123456789", 0o644)
    fs.add_file(b"/w/secret", b"s", 0o200)
    fs.add_symlink(b"/w/loop", b"loop")
    fs.chdir(b"/w")
    k = Kernel(emu, a, space, fs)
    k.put = lambda addr, data: emu.mem_write(addr, data)
    return k


FD = AT_FDCWD & 0xFFFFFFFF


def test_handlers_return_minus_errno(kernel):
    k = kernel
    k.put(0x10000, b"/w/nope\0/w/file/x\0/w/loop\0/w/secret\0" + b"/" + b"a" * 5000 + b"\0")
    path = {"nope": 0x10000, "file_x": 0x10008, "loop": 0x10012, "secret": 0x1001a, "long": 0x10024}
    stat = k.sys_newfstatat
    assert stat(FD, path["nope"], 0x18000, 0) == -E.ENOENT
    assert stat(FD, path["file_x"], 0x18000, 0) == -E.ENOTDIR
    assert stat(FD, path["loop"], 0x18000, 0) == -E.ELOOP
    assert stat(FD, path["long"], 0x18000, 0) == -E.ENAMETOOLONG
    assert k.sys_openat(FD, path["secret"], 0, 0) == -E.EACCES
    assert k.sys_close(42) == -E.EBADF
    assert k.sys_mmap(0, 0, 1, 2, 42, 0) == -E.EINVAL
    assert k.sys_mmap(0, 4096, 1, 2, 42, 0) == -E.EBADF
    assert k.sys_writev(9, 0x10000, 0) == -E.EBADF
    assert k.sys_getcwd(0x18000, 2) == -E.ERANGE
    assert not k.violations


def test_stat_open_mmap_getcwd(kernel):
    k = kernel
    k.put(0x10000, b"file\0")
    assert k.sys_newfstatat(FD, 0x10000, 0x18000, 0) == 0
    raw = bytes(k.uc.mem_read(0x18000, k.abi.stat_size))
    assert S.S_ISREG(struct.unpack_from("<I", raw, k.abi.st_mode)[0])
    assert struct.unpack_from("<q", raw, k.abi.st_size)[0] == 10
    fd = k.sys_openat(FD, 0x10000, 0o2000000, 0)
    assert fd == 3
    addr = k.sys_mmap(0, 10, 1, 2, fd, 0)
    assert bytes(k.uc.mem_read(addr, 12)) == b"0123456789\0\0"
    assert k.space.region_at(addr).perms == uc.UC_PROT_READ
    with pytest.raises(uc.UcError):
        k.uc.mem_read(addr + 4096, 1)     # nothing right after a mapping: over-reads fault
    anon = k.sys_mmap(0, 5000, 3, 0x22, -1 & 0xFFFFFFFF, 0)
    assert anon % 4096 == 0 and bytes(k.uc.mem_read(anon, 8192)) == bytes(8192)
    assert anon + 8192 < addr, "top down, with a hole between mappings"
    with pytest.raises(uc.UcError):
        k.uc.mem_read(anon + 8192, 1)
    assert k.sys_getcwd(0x18000, 4096) == 3, "the length including the NUL"
    assert bytes(k.uc.mem_read(0x18000, 3)) == b"/w\0"
    assert not k.violations
