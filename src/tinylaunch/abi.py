"""Per-architecture ABI facts: one table feeds the asm templates (gen/), the ELF
writer and the emulator tests. Numbers are Linux's, from the kernel's
arch/x86/entry/syscalls/syscall_64.tbl and include/uapi/asm-generic/unistd.h."""
from __future__ import annotations

from dataclasses import dataclass, field

# errno values are the same on both architectures (asm-generic/errno-base.h, errno.h).
ERRNO = {
    "ENOENT": 2, "EINTR": 4, "EIO": 5, "E2BIG": 7, "ENOEXEC": 8, "ENOMEM": 12,
    "EACCES": 13, "ENOTDIR": 20, "ETXTBSY": 26, "ENAMETOOLONG": 36, "ELOOP": 40,
}
# The errnos a launcher names in its messages (SPEC R8); others print as "errno N".
NAMED_ERRNOS = ("ENOENT", "EACCES", "ENOEXEC", "ENOTDIR", "ELOOP", "E2BIG", "ENOMEM", "ETXTBSY")

# The launcher's own limits and exit statuses (docs/behaviour.md), shared by both
# launchers and the reference model.
LIMITS = {
    "PATH_LIMIT": 4096,       # a path made through the manifest must be shorter (PATH_MAX)
    "MAX_HOPS": 32,           # relative manifest targets followed per rlocation path
    "EXIT_NOT_FOUND": 127,    # R8: runfiles, rlocation path or program not found
    "EXIT_CANNOT_EXEC": 126,  # R8: found but cannot be executed
    "EXIT_FAILURE": 125,      # R8: any other launcher failure
    "HEAP_CHUNK": 0x10000,    # the allocator maps at least this much more than a request
    "MANIFEST_RELEASE": 1 << 20,  # scanned manifest pages are released in steps of this (R10)
}

# Flags and constants shared by both ABIs.
CONST = {
    "AT_FDCWD": -100, "AT_EMPTY_PATH": 0x1000, "AT_NULL": 0, "AT_PAGESZ": 6, "AT_RANDOM": 25, "AT_EXECFN": 31,
    "O_RDONLY": 0, "O_CLOEXEC": 0o2000000,
    "PROT_READ": 1, "PROT_WRITE": 2, "MAP_PRIVATE": 2, "MAP_ANONYMOUS": 0x20,
    "MADV_DONTNEED": 4,
    "S_IFMT": 0o170000, "S_IFDIR": 0o040000, "S_IFREG": 0o100000,
}


@dataclass(frozen=True)
class Abi:
    name: str
    elf_machine: int          # e_machine
    segment_align: int        # PT_LOAD p_align: the largest page size the kernel may use
    syscalls: dict = field(default_factory=dict)
    stat_size: int = 0        # sizeof(struct stat)
    st_mode: int = 0          # offset of st_mode in struct stat
    st_size: int = 48         # offset of st_size in struct stat
    page_size: int = 4096     # the smallest page the kernel may use


X86_64 = Abi(
    name="x86_64", elf_machine=62, segment_align=0x1000,
    syscalls={"read": 0, "write": 1, "close": 3, "fstat": 5, "mmap": 9, "munmap": 11,
              "madvise": 28, "writev": 20, "execve": 59, "getcwd": 79, "exit_group": 231,
              "openat": 257, "newfstatat": 262},
    stat_size=144, st_mode=24,
)

AARCH64 = Abi(
    name="aarch64", elf_machine=183, segment_align=0x10000,
    syscalls={"read": 63, "write": 64, "close": 57, "fstat": 80, "mmap": 222, "munmap": 215,
              "madvise": 233, "writev": 66, "execve": 221, "getcwd": 17, "exit_group": 94,
              "openat": 56, "newfstatat": 79},
    stat_size=128, st_mode=16,
)

ARCHES = {abi.name: abi for abi in (X86_64, AARCH64)}
