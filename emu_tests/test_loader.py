"""The loader: mappings and the initial stack, read back from unicorn's memory."""
from __future__ import annotations

import random
import struct

import pytest
import unicorn as uc

import scenarios as S
from tinylaunch import emit

from .harness import arch_params
from .loader import (AT_EXECFN, AT_NULL, AT_PAGESZ, AT_RANDOM, EMU_ARCHES, PAGE, AddressSpace,
                     build_stack, load_elf)


def load(arch, argv, envp, execfn, seed=1):
    a = EMU_ARCHES[arch]
    rng = random.Random(seed)
    emu = uc.Uc(a.uc_arch, a.uc_mode)
    space = AddressSpace(emu, a, rng)
    image = load_elf(space, emit(S.C1_SPEC, arch), rng)
    stack = build_stack(space, image, argv, envp, execfn, rng)
    return emu, space, image, stack


def words(emu, addr, n):
    return list(struct.unpack(f"<{n}Q", emu.mem_read(addr, 8 * n)))


def cstr(emu, addr):
    out = b""
    while True:
        c = bytes(emu.mem_read(addr + len(out), 1))
        if c == b"\0":
            return out
        out += c


def read_stack(emu, sp):
    """argc, argv, envp and auxv parsed from the stack the way a program reads them."""
    argc = words(emu, sp, 1)[0]
    p = sp + 8
    argv = words(emu, p, argc)
    p += 8 * argc
    assert words(emu, p, 1) == [0], "argv is NULL-terminated"
    p += 8
    envp = []
    while (w := words(emu, p, 1)[0]) != 0:
        envp.append(w)
        p += 8
    p += 8
    auxv = []
    while True:
        t, v = words(emu, p, 2)
        auxv.append((t, v))
        p += 16
        if t == AT_NULL:
            return argv, envp, auxv, p


ARGV = [b"/w/bin/app", b"", b"with space", b"x" * 300]
ENVP = [b"A=1", b"PLAIN", b"A=2", b"=weird", b"", b"B="]


@pytest.mark.parametrize("arch", arch_params())
def test_initial_stack_as_linux_builds_it(arch):
    execfn = b"../../app"
    emu, space, image, stack = load(arch, ARGV, ENVP, execfn)
    assert stack.sp % 16 == 0
    argv, envp, auxv, end = read_stack(emu, stack.sp)
    assert [cstr(emu, p) for p in argv] == ARGV
    assert [cstr(emu, p) for p in envp] == ENVP        # duplicates, no '=', empty: all kept
    aux = dict(auxv)
    assert aux[AT_PAGESZ] == PAGE
    assert cstr(emu, aux[AT_EXECFN]) == execfn
    assert len(bytes(emu.mem_read(aux[AT_RANDOM], 16))) == 16
    assert auxv[-1] == (AT_NULL, 0)
    # Strings from the top down: 8 zero bytes, the execfn, envp strings, argv strings.
    assert bytes(emu.mem_read(stack.top - 8, 8)) == bytes(8)
    assert aux[AT_EXECFN] + len(execfn) + 1 == stack.top - 8
    addrs = argv + envp + [aux[AT_EXECFN]]
    assert addrs == sorted(addrs)
    for here, nxt, s in zip(addrs, addrs[1:], ARGV + ENVP):
        assert here + len(s) + 1 == nxt, "strings are packed back to back"
    assert end <= aux[AT_RANDOM] < argv[0], "the tables lie below AT_RANDOM's bytes and the strings"


@pytest.mark.parametrize("arch", arch_params())
def test_argc_zero_and_no_execfn(arch):
    emu, space, image, stack = load(arch, [], [b"X=1"], None)
    argv, envp, auxv, _ = read_stack(emu, stack.sp)
    assert argv == [] and [cstr(emu, p) for p in envp] == [b"X=1"]
    assert AT_EXECFN not in dict(auxv)


@pytest.mark.parametrize("arch", arch_params())
def test_mappings_and_random_base(arch):
    a = EMU_ARCHES[arch]
    bases = set()
    for seed in range(4):
        emu, space, image, stack = load(arch, [b"app"], [], b"/app", seed=seed)
        bases.add(image.base)
        assert image.base % a.abi.segment_align == 0, "p_align honoured (64 KiB on aarch64)"
        code = space.region_at(image.entry)
        assert code.perms == uc.UC_PROT_READ | uc.UC_PROT_EXEC, "R+X only, as PT_LOAD says"
        st = space.region_at(stack.sp)
        assert st.perms == uc.UC_PROT_READ | uc.UC_PROT_WRITE, "RW, not executable (PT_GNU_STACK)"
        assert code is not st
        assert bytes(emu.mem_read(image.base, 4)) == b"\x7fELF"
    assert len(bases) == 4
