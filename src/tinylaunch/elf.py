"""Typed ELF64 little-endian headers: writer and reader for launcher files (SPEC R11).

A launcher is one file-backed segment and nothing else:

    offset 0     ELF header (64 bytes)
    offset 64    program header 0: PT_LOAD, R+X, file offset 0 -> vaddr 0, whole file
    offset 120   program header 1: PT_GNU_STACK, RW (the stack is not executable)
    offset 176   code (e_entry), then the payload's data blob, to the end of the file

No section headers, no PT_INTERP, no PT_DYNAMIC: ET_DYN so the kernel loads it at a
random base, position-independent code so it needs no relocation.
Field names and values are those of the System V gABI and Linux's include/uapi/linux/elf.h.
"""
from __future__ import annotations

import struct
from dataclasses import astuple, dataclass, field, fields

from tinylaunch.abi import ARCHES

# e_ident
ELFMAG = b"\x7fELF"                 # EI_MAG0..EI_MAG3
ELFCLASS64 = 2                      # EI_CLASS: 64-bit objects
ELFDATA2LSB = 1                     # EI_DATA: two's complement, little-endian
EV_CURRENT = 1                      # EI_VERSION and e_version
ELFOSABI_SYSV = 0                   # EI_OSABI: no extensions (what Linux executables use)
EI_ABIVERSION_NONE = 0              # EI_ABIVERSION
EI_NIDENT = 16                      # size of e_ident; bytes after EI_ABIVERSION are zero padding
E_IDENT = ELFMAG + bytes([ELFCLASS64, ELFDATA2LSB, EV_CURRENT, ELFOSABI_SYSV, EI_ABIVERSION_NONE])
E_IDENT = E_IDENT.ljust(EI_NIDENT, b"\0")

# e_type
ET_DYN = 3                          # shared object / position-independent executable

# p_type
PT_LOAD = 1                         # loadable segment
PT_GNU_STACK = 0x6474E551           # GNU extension: p_flags give the stack's permissions

# p_flags
PF_X = 0x1
PF_W = 0x2
PF_R = 0x4

ELF64_EHDR_SIZE = 64                # sizeof(Elf64_Ehdr)
ELF64_PHDR_SIZE = 56                # sizeof(Elf64_Phdr)
PROGRAM_HEADER_COUNT = 2            # PT_LOAD, PT_GNU_STACK
HEADERS_SIZE = ELF64_EHDR_SIZE + PROGRAM_HEADER_COUNT * ELF64_PHDR_SIZE   # 176
ENTRY_OFFSET = HEADERS_SIZE         # the code starts right after the headers
STACK_ALIGN = 16                    # p_align of PT_GNU_STACK (as GNU ld writes it)

# struct.pack codes for ELF64 field types
_HALF, _WORD, _ADDR, _OFF, _XWORD = "H", "I", "Q", "Q", "Q"
_BITS = {"H": 16, "I": 32, "Q": 64}


class ElfError(ValueError):
    """Bytes that are not a launcher this version writes."""


def _pack(record) -> bytes:
    """Pack a header record little-endian, range-checking every integer field."""
    codes = []
    for record_field, value in zip(fields(record), astuple(record)):
        code = record_field.metadata["code"]
        if code in _BITS:
            if not isinstance(value, int) or not 0 <= value < 1 << _BITS[code]:
                raise ValueError(f"{type(record).__name__}.{record_field.name} = {value!r} "
                                 f"does not fit in u{_BITS[code]}")
        elif len(value) != struct.calcsize(code):
            raise ValueError(f"{type(record).__name__}.{record_field.name} must be {struct.calcsize(code)} bytes")
        codes.append(code)
    return struct.pack("<" + "".join(codes), *astuple(record))


def _unpack(record_type, data: bytes, offset: int):
    codes = "<" + "".join(f.metadata["code"] for f in fields(record_type))
    return record_type(*struct.unpack_from(codes, data, offset))


def _f(code: str):
    """A header field packed with this struct code."""
    return field(metadata={"code": code})


@dataclass(frozen=True)
class ElfHeader:
    """Elf64_Ehdr."""
    e_ident: bytes = _f(f"{EI_NIDENT}s")
    e_type: int = _f(_HALF)
    e_machine: int = _f(_HALF)
    e_version: int = _f(_WORD)
    e_entry: int = _f(_ADDR)
    e_phoff: int = _f(_OFF)
    e_shoff: int = _f(_OFF)
    e_flags: int = _f(_WORD)
    e_ehsize: int = _f(_HALF)
    e_phentsize: int = _f(_HALF)
    e_phnum: int = _f(_HALF)
    e_shentsize: int = _f(_HALF)
    e_shnum: int = _f(_HALF)
    e_shstrndx: int = _f(_HALF)


@dataclass(frozen=True)
class ProgramHeader:
    """Elf64_Phdr."""
    p_type: int = _f(_WORD)
    p_flags: int = _f(_WORD)
    p_offset: int = _f(_OFF)
    p_vaddr: int = _f(_ADDR)
    p_paddr: int = _f(_ADDR)
    p_filesz: int = _f(_XWORD)
    p_memsz: int = _f(_XWORD)
    p_align: int = _f(_XWORD)


def _headers(arch: str, file_size: int) -> tuple[ElfHeader, ProgramHeader, ProgramHeader]:
    """The only headers a launcher of this size for this arch may have."""
    abi = ARCHES[arch]
    elf_header = ElfHeader(
        e_ident=E_IDENT, e_type=ET_DYN, e_machine=abi.elf_machine, e_version=EV_CURRENT,
        e_entry=ENTRY_OFFSET, e_phoff=ELF64_EHDR_SIZE, e_shoff=0, e_flags=0,
        e_ehsize=ELF64_EHDR_SIZE, e_phentsize=ELF64_PHDR_SIZE, e_phnum=PROGRAM_HEADER_COUNT,
        e_shentsize=0, e_shnum=0, e_shstrndx=0,
    )
    load = ProgramHeader(
        p_type=PT_LOAD, p_flags=PF_R | PF_X, p_offset=0, p_vaddr=0, p_paddr=0,
        p_filesz=file_size, p_memsz=file_size, p_align=abi.segment_align,
    )
    stack = ProgramHeader(
        p_type=PT_GNU_STACK, p_flags=PF_R | PF_W, p_offset=0, p_vaddr=0, p_paddr=0,
        p_filesz=0, p_memsz=0, p_align=STACK_ALIGN,
    )
    return elf_header, load, stack


def _check_arch(arch: str) -> None:
    if arch not in ARCHES:
        raise ValueError(f"arch {arch!r}: unknown; expected one of {', '.join(ARCHES)}")


def write(code: bytes, data: bytes, arch: str) -> bytes:
    """The launcher file: headers, then code (the entry point), then data."""
    _check_arch(arch)
    if not code:
        raise ValueError("code: empty")
    file_size = HEADERS_SIZE + len(code) + len(data)
    headers = b"".join(_pack(header) for header in _headers(arch, file_size))
    assert len(headers) == HEADERS_SIZE
    return headers + bytes(code) + bytes(data)


def read(blob: bytes) -> tuple[str, bytes]:
    """Check that blob is a launcher as write() makes them; return (arch, code + data)."""
    if len(blob) <= HEADERS_SIZE:
        raise ElfError(f"not a tinylaunch launcher: {len(blob)} bytes is too short")
    if blob[:len(ELFMAG)] != ELFMAG:
        raise ElfError("not a tinylaunch launcher: not an ELF file")
    elf_header = _unpack(ElfHeader, blob, 0)
    arch = next((name for name, abi in ARCHES.items() if abi.elf_machine == elf_header.e_machine), None)
    if arch is None:
        raise ElfError(f"not a tinylaunch launcher: e_machine {elf_header.e_machine} is not a supported arch")
    found = (elf_header,
             _unpack(ProgramHeader, blob, ELF64_EHDR_SIZE),
             _unpack(ProgramHeader, blob, ELF64_EHDR_SIZE + ELF64_PHDR_SIZE))
    for name, got, expected in zip(("ELF header", "PT_LOAD header", "PT_GNU_STACK header"),
                                   found, _headers(arch, len(blob))):
        if got != expected:
            differ = next(f.name for f in fields(got) if getattr(got, f.name) != getattr(expected, f.name))
            raise ElfError(f"not a tinylaunch launcher: {name} field {differ} is "
                           f"{getattr(got, differ)!r}, expected {getattr(expected, differ)!r}")
    return arch, blob[HEADERS_SIZE:]
