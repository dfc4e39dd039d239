"""gen/ fails loudly and says where: an instruction keystone rejects is reported with the
template file and line it came from, and nothing is written."""
from __future__ import annotations

import shutil

import pytest

pytest.importorskip("keystone")
pytest.importorskip("jinja2")

from gen import assemble, render  # noqa: E402


@pytest.mark.parametrize("arch, bad", [("x86_64", "    movx rax, rbx"), ("aarch64", "    movx x0, x1")])
def test_assembler_error_names_the_template_line(tmp_path, arch, bad):
    asm = tmp_path / "asm"
    shutil.copytree(render.ASM_DIR / arch, asm / arch)
    start = asm / arch / "start.s.j2"
    lines = start.read_text().split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("    ") and not line.lstrip().startswith(("#", "//")))
    lines.insert(at, bad)
    start.write_text("\n".join(lines))
    with pytest.raises(assemble.AssembleError) as caught:
        assemble.assemble(arch, render.render(arch, asm_dir=asm))
    assert f"start.s.j2:{at + 1}" in str(caught.value)
    assert "movx" in str(caught.value)


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_every_rendered_line_says_where_it_came_from(arch):
    _, _, comment = assemble.MODES[arch]
    for stmt in assemble.statements(render.render(arch), comment):
        assert render.origin(stmt.raw), f"rendered line {stmt.line} has no origin: {stmt.raw!r}"
