"""Docs: README openings (front matter, badges and code skipped) and module docstrings."""

from forklift_core.ingest.docs import module_docstring, readme_opening
from forklift_core.ingest.index import ingest
from forklift_core.ingest.tables import IndexReader
from tests.conftest import POLYGLOT


def test_readme_opening_skips_front_matter_badges_and_code() -> None:
    text = ("---\ntitle: x\n---\n# Widget\n\n[![ci](badge.svg)](link)\n\nWidget turns gears into sprockets "
            "quickly.\n\n```sh\nmake\n```\n\nIt also counts them by size.\n")
    title, prose = readme_opening(text, 1000)
    assert title == "Widget"
    assert prose == "Widget turns gears into sprockets quickly.\n\nIt also counts them by size."


def test_module_docstring_after_comments() -> None:
    assert module_docstring(b'# coding: utf-8\n"""Tools for gears."""\nimport os\n', 100) == "Tools for gears."
    assert module_docstring(b"import os\n'''not a docstring'''\n", 100) == ""
    # Non-ASCII text is decoded (only the docstring is), its space collapsed and cut at the limit.
    opening = '#!/usr/bin/env python\n\n"""Zahnräder   und\n   Ketten."""\n'.encode()
    assert module_docstring(opening, 15) == "Zahnräder und K"
    # It is looked for in the first 20,000 bytes: one that ends later is not taken.
    assert module_docstring(b"# licence\n" * 1998 + b'"""Found."""\n', 100) == "Found."
    assert module_docstring(b"# licence\n" * 2000 + b'"""Too late."""\n', 100) == ""
    assert module_docstring(b"\n" * 30_000 + b"import os\n", 100) == ""


def test_docs_table_and_prototypes(workspace) -> None:
    ingest(str(POLYGLOT), "p", workspace)
    reader = IndexReader(workspace.project("p"))
    docs = {(d["path"], d["kind"]) for d in reader.docs()}
    assert ("README.md", "readme") in docs and ("py/shapes/geometry.py", "module_docstring") in docs
    kinds = {(s["path"], s["kind"]) for s in reader.symbols(name="stack_push")}
    assert kinds == {("c/stack.c", "function"), ("c/stack.h", "prototype")}
