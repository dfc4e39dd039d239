"""Regenerate what the package ships from asm/: `python -m gen` writes
src/tinylaunch/arch/<arch>.py (the code variants) and <arch>.lst (a listing);
`python -m gen --check` fails when they differ from a fresh assembly (SPEC R12);
`python -m gen --sizes` prints every variant's code size from a fresh assembly."""
from __future__ import annotations

import argparse
import sys

from tinylaunch import features

from . import build


def print_sizes(arches: list[str]) -> None:
    """A table: one row per feature set, code + strings bytes per arch."""
    print("| variant | " + " | ".join(arches) + " |")
    print("|---|" + "---:|" * len(arches))
    for wanted in features.ALL:
        sizes = [f"{len(build.variant(arch, wanted)[1]):,}" for arch in arches]
        print(f"| {wanted.name} | " + " | ".join(sizes) + " |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gen", description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    parser.add_argument("--sizes", action="store_true", help="print the variants' code sizes, write nothing")
    parser.add_argument("arches", nargs="*", default=list(build.ARCHES))
    args = parser.parse_args(argv)
    stale = []
    if args.sizes:
        print_sizes(args.arches)
        return 0
    for arch in args.arches:
        outputs = build.build(arch)
        if args.check:
            stale += [str(p) for p, text in outputs.items()
                      if not p.exists() or p.read_text() != text]
        else:
            build.write(outputs)
            variants = build.variants_of(outputs, arch)
            sizes = [len(code) for code in variants.values()]
            print(f"{arch}: {len(variants[features.C1.name])} bytes of code for SPEC C1's "
                  f"variant; {len(sizes)} variants, {min(sizes)}..{max(sizes)} bytes")
    if stale:
        print("stale, run `python -m gen`: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
