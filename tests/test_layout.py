"""docs/layout.md: the data blob, byte for byte, and decode as the inverse of encode."""
from __future__ import annotations

import struct

import pytest
from hypothesis import given

from spec_examples import C1_EXAMPLE, HAND_PICKED, specs
from tinylaunch.layout import LayoutError, decode, encode
from tinylaunch.spec import Argv0Literal, EnvOp, Literal, Rlocation, Spec, SpecError


def u32(count: int) -> bytes:
    return struct.pack("<I", count)


# The C1 example written out by hand from docs/layout.md, independently of layout.py.
C1_EXAMPLE_BLOB = b"".join([
    b"\x03",                                   # flags: export_runfiles_env | needs runfiles
    b"\x00",                                   # argv0 logical
    u32(2), u32(4),                            # n_args, n_env_ops
    b"\x02_main/app/app.venv/bin/python\0",    # program: rlocation
    b"\x01-I\0",                               # args[0]: literal
    b"\x02_main/app/main.py\0",                # args[1]: rlocation
    b"\x02BAZEL_TARGET=\0\x01//app:main\0",    # default, name with '=', literal value
    b"\x01VIRTUAL_ENV=\0\x02_main/app/app.venv\0",
    b"\x04PATH=\0:\0\x02_main/app/app.venv/bin\0",   # prepend: separator before the value
    b"\x03PYTHONHOME=\0",                      # unset: no value
])


def test_c1_example_bytes():
    assert encode(C1_EXAMPLE) == C1_EXAMPLE_BLOB
    assert decode(C1_EXAMPLE_BLOB) == C1_EXAMPLE


@pytest.mark.parametrize("spec, flags", [
    (Spec(program=Literal("/bin/true")), 0x03),
    (Spec(program=Literal("/bin/true"), export_runfiles_env=False), 0x00),
    (Spec(program=Literal("/bin/true"), args=(Rlocation("a/b"),), export_runfiles_env=False), 0x02),
    (Spec(program=Literal("/bin/true"), env=(EnvOp("set", "A", Rlocation("a")),), export_runfiles_env=False),
     0x02),
])
def test_flags(spec, flags):
    assert encode(spec)[0] == flags


@pytest.mark.parametrize("argv0, encoded", [
    ("logical", b"\x00"), ("resolved", b"\x01"), ("launcher", b"\x02"),
])
def test_argv0_modes(argv0, encoded):
    blob = encode(Spec(program=Literal("/p"), argv0=argv0))
    assert blob[1:2] == encoded
    assert blob[10:] == b"\x01/p\0"


def test_argv0_literal_follows_the_counts():
    blob = encode(Spec(program=Literal("/p"), args=(Literal("a"),), argv0=Argv0Literal("näme")))
    assert blob == b"\x03\x03" + u32(1) + u32(0) + "näme".encode() + b"\0\x01/p\0\x01a\0"


def test_append_op_bytes():
    op = EnvOp("append", "PYTHONPATH", Literal("/x"), separator=";;")
    blob = encode(Spec(program=Literal("/p"), env=(op,), export_runfiles_env=False))
    assert blob.endswith(b"\x05PYTHONPATH=\0;;\0\x01/x\0")


@pytest.mark.parametrize("spec", HAND_PICKED, ids=range(len(HAND_PICKED)))
def test_hand_picked_round_trip(spec):
    assert decode(encode(spec)) == spec


@given(specs)
def test_generated_round_trip(spec):
    assert decode(encode(spec)) == spec


def test_encode_validates():
    with pytest.raises(SpecError, match=r"^args\[0\]\.rlocation: "):
        encode(Spec(program=Literal("/p"), args=(Rlocation("a//b"),)))


BAD_BLOBS = {
    "empty": (b"", "truncated"),
    "trailing garbage": (C1_EXAMPLE_BLOB + b"\0", "1 trailing bytes"),
    "truncated in a string": (C1_EXAMPLE_BLOB[:-3], "unterminated"),
    "truncated before an op": (C1_EXAMPLE_BLOB[:-len(b"\x03PYTHONHOME=\0")], r"truncated, expected env\[3\] op"),
    "truncated count": (b"\x03\x00\x02\x00", "truncated, expected n_args"),
    "unknown flag bits": (b"\x07" + C1_EXAMPLE_BLOB[1:], "unknown flag bits"),
    "needs-runfiles flag wrong": (b"\x00\x00" + u32(0) + u32(0) + b"\x02a/b\0", "disagrees"),
    "unknown argv0 mode": (b"\x03\x04" + u32(0) + u32(0) + b"\x01/p\0", "unknown argv0 mode"),
    "unknown value tag": (b"\x03\x00" + u32(0) + u32(0) + b"\x03/p\0", "unknown value tag"),
    "unknown env op": (b"\x03\x00" + u32(0) + u32(1) + b"\x01/p\0\x06A=\0", "unknown env op"),
    "name without =": (b"\x03\x00" + u32(0) + u32(1) + b"\x01/p\0\x03A\0", "lacks the trailing '='"),
    "not UTF-8": (b"\x03\x00" + u32(0) + u32(0) + b"\x01/\xff\0", "not UTF-8"),
    "count larger than the blob": (b"\x03\x00" + u32(0xFFFFFFFF) + u32(0) + b"\x01/p\0", "truncated"),
}


@pytest.mark.parametrize("case", BAD_BLOBS)
def test_decode_rejects(case):
    blob, message = BAD_BLOBS[case]
    with pytest.raises(LayoutError, match=message):
        decode(blob)


def test_decode_validates_the_spec():
    with pytest.raises(SpecError, match=r"^program\.rlocation: not normalised"):
        decode(b"\x03\x00" + u32(0) + u32(0) + b"\x02a//b\0")
