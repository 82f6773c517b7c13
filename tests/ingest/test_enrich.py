"""Enrichment: end lines estimated where the extractor gave none, and line prefixes."""

from __future__ import annotations

from forklift_core.config import IngestConfig
from forklift_core.ingest.definitions import Definition, definitions_table
from forklift_core.ingest.enrich import enrich


def test_a_missing_end_line_runs_to_the_next_definition_not_nested_in_it(tmp_path) -> None:
    (tmp_path / "a.cpp").write_text("".join(f"// line {n}\n" for n in range(1, 21)))
    (tmp_path / "b.py").write_text("".join(f"# line {n}\n" for n in range(1, 8)))
    defs = [
        Definition("Table", "variable", "C++", "a.cpp", 2, 0),  # holds the next two (scope names it)
        Definition("row", "field", "C++", "a.cpp", 4, 0, scope="ns::Table"),
        Definition("cell", "field", "C++", "a.cpp", 6, 7, scope="Table"),
        Definition("after", "variable", "C++", "a.cpp", 9, 0),  # followed by one not nested in it
        Definition("Tables", "variable", "C++", "a.cpp", 12, 0),  # a longer name is not nested in "Table"
        Definition("last", "variable", "C++", "a.cpp", 15, 0, scope="Tables"),  # the file's last: to its end
        Definition("alone", "variable", "Python", "b.py", 3, 0),  # the next file's rows are not in it
        Definition("tail", "variable", "Python", "b.py", 5, 0, scope="alone"),  # nested to the file's end
    ]
    ends = {row["name"]: row["end_line"] for row in enrich(tmp_path, definitions_table(defs), IngestConfig()).to_pylist()}
    assert ends == {"Table": 8, "row": 5, "cell": 7, "after": 11, "Tables": 20, "last": 20, "alone": 7, "tail": 7}


def test_snippets_and_docs_come_from_the_tasks_buffer_in_any_file_order_and_a_gone_file_drops_out(tmp_path) -> None:
    from forklift_core.ingest.buffers import read_laid_out

    (tmp_path / "z.py").write_text('def last():\n    """Zed."""\n    return 1\n')
    (tmp_path / "a.c").write_bytes(b"/* Adds. */\r\nint add(int a)\r\n{\r\n  return a;\r\n}")  # CRLF, no last newline
    (tmp_path / "m.py").write_text("x = 1\n")  # read by the task, no definitions
    (tmp_path / "gone.py").write_text("def gone():\n    pass\n")
    (tmp_path / "gone.py").unlink()
    files = read_laid_out(tmp_path, ["z.py", "m.py", "gone.py", "a.c"])
    defs = [Definition("add", "function", "C", "a.c", 2, 5), Definition("last", "function", "Python", "z.py", 1, 3),
            Definition("gone", "function", "Python", "gone.py", 1, 2)]
    rows = {row["name"]: row for row in enrich(tmp_path, definitions_table(defs), IngestConfig(), files).to_pylist()}
    assert set(rows) == {"add", "last"}
    assert rows["add"]["snippet"] == "int add(int a)\n{\n  return a;\n}" and rows["add"]["doc"] == "Adds."
    assert rows["last"]["snippet"].startswith("def last():") and rows["last"]["doc"] == "Zed."
    by_disk = {row["name"]: row for row in enrich(tmp_path, definitions_table(defs), IngestConfig()).to_pylist()}
    assert by_disk == rows
