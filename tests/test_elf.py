"""SPEC R11/R12: the ELF file around the code, checked with independent readers
(pyelftools, binutils' readelf) and by the kernel itself."""
from __future__ import annotations

import importlib.util
import io
import logging
import os
import platform
import shutil
import stat
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from spec_examples import C1_EXAMPLE, C1_EXAMPLE_JSON, HAND_PICKED
from tinylaunch import cli, elf, emit, features
from tinylaunch.emit import shipped_code
from tinylaunch.spec import parse_spec
from tinylaunch.abi import ARCHES

ARCH_ALIGN = {"x86_64": 0x1000, "aarch64": 0x10000}   # R11
SHIPPED_ARCHES = [arch for arch in ARCHES if importlib.util.find_spec(f"tinylaunch.arch.{arch}")]
PYELFTOOLS_MACHINE = {"x86_64": "EM_X86_64", "aarch64": "EM_AARCH64"}

# Tiny programs that exit with status 42, to show the kernel loads what write() makes.
EXIT_42 = {
    "x86_64": bytes.fromhex("bf2a000000"     # mov edi, 42
                            "b8e7000000"     # mov eax, 231 (exit_group)
                            "0f05"),         # syscall
    "aarch64": bytes.fromhex("400580d2"      # mov x0, #42
                             "c80b80d2"      # mov x8, #94 (exit_group)
                             "010000d4"),    # svc #0
}


def parse_quietly(blob: bytes, caplog) -> ELFFile:
    """Parse with pyelftools, turning any warning or log record into a failure."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with caplog.at_level(logging.DEBUG):
            parsed = ELFFile(io.BytesIO(blob))
            parsed.header, list(parsed.iter_segments()), list(parsed.iter_sections())
            for segment in parsed.iter_segments():
                segment.data()
    assert not caplog.records, [record.getMessage() for record in caplog.records]
    return parsed


@pytest.mark.parametrize("arch", ARCHES)
def test_pyelftools_sees_one_loadable_segment(arch, caplog):
    code, data = EXIT_42[arch], b"data blob"
    blob = elf.write(code, data, arch)
    parsed = parse_quietly(blob, caplog)
    header = parsed.header
    assert header.e_ident.EI_CLASS == "ELFCLASS64" and header.e_ident.EI_DATA == "ELFDATA2LSB"
    assert header.e_type == "ET_DYN"
    assert header.e_machine == PYELFTOOLS_MACHINE[arch]
    assert header.e_entry == 176 == header.e_phoff + 2 * header.e_phentsize
    assert (header.e_shoff, header.e_shnum, header.e_shstrndx) == (0, 0, 0)
    assert parsed.num_sections() == 0

    segments = list(parsed.iter_segments())
    assert [segment.header.p_type for segment in segments] == ["PT_LOAD", "PT_GNU_STACK"]
    load, stack = (segment.header for segment in segments)
    assert load.p_flags == elf.PF_R | elf.PF_X
    assert (load.p_offset, load.p_vaddr) == (0, 0)
    assert load.p_filesz == load.p_memsz == len(blob)
    assert load.p_align == ARCH_ALIGN[arch] == ARCHES[arch].segment_align
    assert stack.p_flags == elf.PF_R | elf.PF_W
    assert segments[0].data() == blob
    assert blob[header.e_entry:] == code + data


@pytest.mark.skipif(shutil.which("readelf") is None, reason="readelf (binutils) is not installed")
@pytest.mark.parametrize("arch", ARCHES)
def test_readelf_has_no_complaint(arch, tmp_path):
    path = tmp_path / "launcher"
    path.write_bytes(elf.write(EXIT_42[arch], b"data", arch))
    result = subprocess.run(["readelf", "-a", "-W", str(path)], capture_output=True, text=True, check=True)
    assert "Warning" not in result.stderr and "Error" not in result.stderr, result.stderr
    assert result.stderr == ""
    program_headers = result.stdout.split("Program Headers:")[1]
    assert "INTERP" not in program_headers and "DYNAMIC" not in program_headers
    assert "DYN (" in result.stdout
    assert "There are no sections in this file." in result.stdout
    assert "There is no dynamic section in this file." in result.stdout


@pytest.mark.parametrize("arch", ARCHES)
def test_kernel_runs_it(arch, tmp_path):
    runner = {"x86_64": [], "aarch64": []}[arch]
    if platform.machine() != arch:
        qemu = shutil.which(f"qemu-{arch}-static") or shutil.which(f"qemu-{arch}")
        if qemu is None:
            pytest.skip(f"not a {arch} machine and no qemu-{arch}-static")
        runner = [qemu]
    path = tmp_path / "exit42"
    path.write_bytes(elf.write(EXIT_42[arch], b"", arch))
    path.chmod(0o755)
    assert subprocess.run([*runner, str(path)]).returncode == 42


@pytest.mark.parametrize("arch", ARCHES)
def test_read_returns_what_write_wrote(arch):
    assert elf.read(elf.write(b"code", b"data", arch)) == (arch, b"codedata")


def corrupt(blob: bytes, offset: int, replacement: bytes) -> bytes:
    return blob[:offset] + replacement + blob[offset + len(replacement):]


GOOD = elf.write(EXIT_42["x86_64"], b"data", "x86_64")
NOT_OURS = {
    "too short": (GOOD[:176], "too short"),
    "not ELF": (b"#!/bin/sh\n" + GOOD[10:], "not an ELF file"),
    "32-bit": (corrupt(GOOD, 4, b"\x01"), "e_ident"),
    "big-endian": (corrupt(GOOD, 5, b"\x02"), "e_ident"),
    "ET_EXEC": (corrupt(GOOD, 16, b"\x02\x00"), "e_type"),
    "unknown machine": (corrupt(GOOD, 18, b"\x28\x00"), "e_machine 40"),
    "other entry": (corrupt(GOOD, 24, b"\xb4"), "e_entry"),
    "section headers": (corrupt(GOOD, 60, b"\x01\x00"), "e_shnum"),
    "writable segment": (corrupt(GOOD, 64 + 4, b"\x07"), "PT_LOAD header field p_flags is 7, expected 5"),
    "segment shorter than the file": (GOOD + b"x", "p_filesz"),
    "executable stack": (corrupt(GOOD, 120 + 4, b"\x07"), "PT_GNU_STACK header field p_flags"),
    "aarch64 alignment on x86_64": (corrupt(GOOD, 64 + 48, b"\x00\x00\x01"), "p_align"),
}


@pytest.mark.parametrize("case", NOT_OURS)
def test_read_rejects_files_not_ours(case):
    blob, message = NOT_OURS[case]
    with pytest.raises(elf.ElfError, match=message):
        elf.read(blob)


def test_write_checks_its_inputs():
    with pytest.raises(ValueError, match="unknown"):
        elf.write(b"code", b"", "riscv64")
    with pytest.raises(ValueError, match="code: empty"):
        elf.write(b"", b"data", "x86_64")


def test_fields_are_range_checked():
    header = elf.ProgramHeader(p_type=elf.PT_LOAD, p_flags=elf.PF_R, p_offset=0, p_vaddr=0, p_paddr=0,
                               p_filesz=1 << 64, p_memsz=0, p_align=0)
    with pytest.raises(ValueError, match=r"p_filesz = 18446744073709551616 does not fit in u64"):
        elf._pack(header)


def test_x86_64_code_is_shipped():
    assert "x86_64" in SHIPPED_ARCHES


@pytest.mark.parametrize("arch", SHIPPED_ARCHES)
@pytest.mark.parametrize("spec", HAND_PICKED, ids=range(len(HAND_PICKED)))
def test_emitted_launchers_are_clean(spec, arch, caplog):
    blob = emit(spec, arch)
    parsed = parse_quietly(blob, caplog)
    assert parsed.header.e_machine == PYELFTOOLS_MACHINE[arch]
    code = shipped_code(arch, features.of(spec))
    assert elf.read(blob) == (arch, blob[176:])
    assert blob[176:176 + len(code)] == code


EMIT_C1_EXAMPLE = """
import sys
from tinylaunch import emit, load_spec
sys.stdout.buffer.write(emit(load_spec(sys.stdin.read()), sys.argv[1]))
"""


@pytest.mark.parametrize("arch", SHIPPED_ARCHES)
def test_emit_is_deterministic(arch):
    """Same spec, arch and version: same bytes, whatever the process (R12)."""
    src = str(Path(__file__).resolve().parent.parent / "src")
    outputs = {
        subprocess.run([sys.executable, "-c", EMIT_C1_EXAMPLE, arch], input=C1_EXAMPLE_JSON.encode(),
                       capture_output=True, check=True,
                       env={**os.environ, "PYTHONPATH": src, "PYTHONHASHSEED": seed}).stdout
        for seed in ("0", "1", "12345")
    }
    assert outputs == {emit(C1_EXAMPLE, arch)}


def test_cli_output_is_mode_0755(tmp_path):
    out = tmp_path / "launcher"
    old_umask = os.umask(0o077)
    try:
        assert cli.main(["emit", "--arch", "x86_64", "-o", str(out), "--program-path", "/bin/true"]) == 0
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o755
    assert out.read_bytes() == emit(parse_spec({"program": {"path": "/bin/true"}}), "x86_64")
