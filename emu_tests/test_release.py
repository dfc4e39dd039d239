"""R10: a launcher gives scanned manifest pages back as it goes, so its memory does not
grow with the manifest.  The release is invisible in the outcome (MADV_DONTNEED on a
private file mapping drops pages that read back the same), so it is checked here, on
the system calls themselves."""
from __future__ import annotations

import pytest

from tinylaunch.abi import ARCHES, CONST, LIMITS

from .harness import arch_params, check
from .test_budgets import scan_case

MIB = 1 << 20


@pytest.mark.parametrize("arch", arch_params())
def test_scanned_manifest_pages_are_released(arch):
    size = 3 * MIB + 12345
    out = check(scan_case(arch, size))
    maps = [c for c in out.calls if c.name == "mmap" and c.fd_path and c.fd_path.endswith(b"runfiles_manifest")]
    assert len(maps) == 1, "the manifest is mapped once"
    base, end = maps[0].result, maps[0].result + maps[0].args[1]
    releases = [c for c in out.calls if c.name == "madvise"]
    assert releases, "no madvise: a scan of a 3 MiB manifest released nothing"
    # release ends are aligned down to the largest page the arch's kernels may use
    align = ARCHES[arch].segment_align if arch == "aarch64" else ARCHES[arch].page_size
    at = base
    for call in releases:
        addr, length, advice = call.args[:3]
        assert advice == CONST["MADV_DONTNEED"]
        assert addr == at, "each release starts where the previous one ended, at the mapping's start first"
        assert length > 0 and (addr + length) % align == 0 and addr + length <= end
        at = addr + length
    # pages are given back in steps of MANIFEST_RELEASE, up to the last full step scanned
    assert at - base >= size - LIMITS["MANIFEST_RELEASE"] - align
