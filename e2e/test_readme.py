"""The Bazel snippets of the docs are copied from e2e/example, which the e2e suite runs:
every ```starlark block of a "Using it from Bazel" section must appear there word for word."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

E2E = Path(__file__).resolve().parent
EXAMPLE = E2E / "example"
DOCS = {"e2e/README.md": E2E / "README.md", "README.md": E2E.parent / "README.md"}
SECTION = "## Using it from Bazel"


def section(text: str) -> str | None:
    start = text.find(f"\n{SECTION}\n")
    if start < 0:
        return None
    end = text.find("\n## ", start + len(SECTION) + 2)
    return text[start:end if end >= 0 else len(text)]


def snippets(text: str) -> list[str]:
    return re.findall(r"^```starlark\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)


@pytest.mark.parametrize("doc", DOCS)
def test_snippets_are_copied_from_the_example(doc):
    path = DOCS[doc]
    found = section(path.read_text()) if path.is_file() else None
    if found is None:
        pytest.skip(f"{doc} has no '{SECTION}' section (yet)")
    blocks = snippets(found)
    assert blocks, f"{doc}: no ```starlark block in '{SECTION}'"
    sources = {p.relative_to(EXAMPLE): p.read_text() for p in EXAMPLE.rglob("*")
               if p.is_file() and (p.name in ("WORKSPACE", "BUILD.bazel") or p.suffix == ".bzl")}
    for block in blocks:
        assert any(block in text for text in sources.values()), (
            f"{doc}: this block is not in any e2e/example file (copy it from there):\n{block}")
