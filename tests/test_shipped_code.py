"""The code the package ships is what its templates say (SPEC R12).

Three independent checks per shipped architecture and code variant:
- `gen` reproduces src/tinylaunch/arch/ from asm/ bit for bit (keystone);
- GNU as, a second assembler, makes the same bytes of the same rendered source, so a
  keystone mis-encoding cannot hide behind a self-consistent regeneration;
- capstone decodes the shipped bytes into exactly the template's instructions, one for
  one and in order (mnemonics compared; operands are covered by the GNU as bytes).
"""
from __future__ import annotations

import shutil
import subprocess

import pytest

from conftest import require

pytest.importorskip("keystone")
pytest.importorskip("jinja2")
pytest.importorskip("capstone")

from gen import assemble, build, listing, reach, render  # noqa: E402
from tinylaunch import features  # noqa: E402
from tinylaunch.emit import shipped_code  # noqa: E402
from tinylaunch.features import Features  # noqa: E402

GNU_AS = {
    "x86_64": (["as", "--64"], ".intel_syntax noprefix\n"),
    "aarch64": (["aarch64-linux-gnu-as"], ""),
}
# Spellings capstone prints for what the templates write.
ALIASES = {
    "jz": "je", "jnz": "jne", "jc": "jb", "jnc": "jae", "jnae": "jb", "jnb": "jae",
    "cmovnbe": "cmova",
    # aarch64: unscaled-offset forms of ldr/str, printed as such by capstone
    "ldur": "ldr", "stur": "str", "ldurb": "ldrb", "sturb": "strb", "ldurh": "ldrh",
    "sturh": "strh", "ldursw": "ldrsw", "movz": "mov", "movn": "mov",
}


# Every arch gen builds must be shipped (test_gen_reproduces_shipped_files says so), so
# the checks below run on all of them rather than on whatever happens to be present.
ARCHES = build.ARCHES


VARIANTS = [pytest.param(arch, wanted, id=f"{arch}-{wanted.name.replace(' ', '-')}")
            for arch in ARCHES for wanted in features.ALL]


def instruction_statements(arch: str, wanted: Features) -> list[str]:
    """The rendered template's instructions, labels and data directives left out."""
    _, _, comment = assemble.MODES[arch]
    text = render.render(arch, wanted)
    out = []
    for stmt in assemble.statements(text, comment):
        if stmt.text.endswith(":") or stmt.text.startswith("."):
            continue
        out.append(stmt.text)
    return out


def strings_offset(arch: str, wanted: Features) -> int:
    text = render.render(arch, wanted)
    return build.label_addresses(arch, text, assemble.assemble(arch, text))["strings"]


def mnemonic(text: str) -> str:
    words = text.replace(",", " ").split()
    head = words[0]
    if head in ("rep", "repe", "repne", "repz", "repnz"):
        head = f"{head} {words[1]}"
    return ALIASES.get(head, head)


@pytest.mark.parametrize("arch", build.ARCHES)
def test_gen_reproduces_shipped_files(arch):
    stale = [str(path) for path, text in build.build(arch).items()
             if not path.exists() or path.read_text() != text]
    assert not stale, f"run `python -m gen`: {stale}"


@pytest.mark.parametrize("arch, wanted", VARIANTS)
def test_gnu_as_makes_the_same_bytes(arch, wanted, tmp_path):
    command, prologue = GNU_AS[arch]
    require(shutil.which(command[0]) is not None, f"{command[0]} (binutils) is not installed")
    _, _, comment = assemble.MODES[arch]
    stmts = assemble.statements(render.render(arch, wanted), comment)
    source = tmp_path / "launcher.s"
    source.write_text(prologue + ".text\n" + "\n".join(s.text for s in stmts) + "\n")
    obj = tmp_path / "launcher.o"
    subprocess.run([*command, "-o", str(obj), str(source)], check=True)
    binary = tmp_path / "launcher.bin"
    objcopy = "objcopy" if arch == "x86_64" else "aarch64-linux-gnu-objcopy"
    require(shutil.which(objcopy) is not None, f"{objcopy} is not installed")
    subprocess.run([objcopy, "-O", "binary", "-j", ".text", str(obj), str(binary)], check=True)
    gnu, shipped = binary.read_bytes(), shipped_code(arch, wanted)
    if gnu != shipped:
        at = next((i for i, (a, b) in enumerate(zip(gnu, shipped)) if a != b), min(len(gnu), len(shipped)))
        near = [f"{a:04x} {text}" for a, _, text in listing.disassemble(arch, shipped, len(shipped))
                if at - 16 <= a <= at]
        pytest.fail(f"{arch}: keystone and GNU as differ at byte {at:#x} "
                    f"({len(shipped)} vs {len(gnu)} bytes); shipped code there:\n" + "\n".join(near))


@pytest.mark.parametrize("arch, wanted", VARIANTS)
def test_disassembly_matches_template(arch, wanted):
    code = shipped_code(arch, wanted)
    end = strings_offset(arch, wanted)
    decoded = listing.disassemble(arch, code, end)
    assert sum(len(raw) for _, raw, _ in decoded) == end, "capstone did not decode every code byte"
    written = instruction_statements(arch, wanted)
    assert len(decoded) == len(written), (
        f"{len(written)} template instructions, {len(decoded)} decoded")
    for (address, _, text), source in zip(decoded, written):
        assert mnemonic(text) == mnemonic(source), f"{address:#06x}: template {source!r}, shipped {text!r}"


@pytest.mark.parametrize("arch, wanted", VARIANTS)
def test_variant_has_no_dead_code(arch, wanted):
    """A feature guard that drops a routine's callers must drop the routine too."""
    assert reach.unreachable(arch, render.render(arch, wanted)) == []


def test_dead_code_is_found():
    """What the check above relies on: a routine nobody calls or falls into is reported,
    one reached by fall-through or by a reference is not."""
    text = "\n".join(["_start:", "call used", "jmp _start", "unused:", "ret", "used:", "nop",
                      "fallen_into:", "ret", "strings:"])
    assert reach.unreachable("x86_64", text) == ["unused"]
