"""Re-ingest: only changed files are read again, the change is reported, and the index equals a fresh ingest."""

from __future__ import annotations

import shutil

import pyarrow.parquet as pq
import pytest

from forklift_core.config import IngestConfig
from forklift_core.ingest.index import ingest
from forklift_core.workspace import Workspace
from tests.conftest import POLYGLOT


def _table(workspace: Workspace, project: str, name: str) -> list[dict]:
    rows = pq.read_table(workspace.project(project).table(name)).to_pylist()
    return sorted(rows, key=lambda r: sorted((k, str(v)) for k, v in r.items()))


def test_a_reingest_reads_only_changed_files_reports_the_change_and_matches_a_fresh_ingest(workspace, tmp_path,
                                                                                         monkeypatch) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(POLYGLOT, tree)
    first = ingest(str(tree), "p", workspace)
    assert first["reingest"] is False

    unchanged = ingest(str(tree), "p", workspace)  # nothing changed: the index stays as it is
    assert unchanged["reingest"] is True and unchanged["changes"]["files_changed"] == 0
    assert unchanged["symbols"] == first["symbols"] and unchanged["references"] == first["references"]

    stack = tree / "c" / "stack.c"  # one function added, one moved down by the new lines, one file removed
    stack.write_text(stack.read_text().replace(
        "int stack_pop(struct stack *s)",
        "int stack_peek(struct stack *s)\n{\n    return s->items[s->top - 1];\n}\n\nint stack_pop(struct stack *s)"))
    removed = next((tree / "go").rglob("*.go"))
    removed.unlink()
    planned: list[list[str]] = []
    import forklift_core.ingest.extraction as extraction

    real_plan = extraction.plan_extraction
    monkeypatch.setattr(extraction, "plan_extraction", lambda files, *a: planned.append([f.path for f in files])
                        or real_plan(files, *a))
    changed = ingest(str(tree), "p", workspace)
    assert planned == [["c/stack.c"]] and changed["extracted_files"] == 1  # the one changed file, nothing else
    report = changed["changes"]
    assert (report["files_changed"], report["files_removed"], report["files_added"]) == (1, 1, 0)
    assert any(e.startswith("stack_peek (c/stack.c:") for e in report["examples"]["added"])
    assert any(e.startswith("stack_pop (c/stack.c:") for e in report["examples"]["moved"])
    assert report["symbols_removed"] >= 1 and all(str(removed.relative_to(tree)) in e
                                                  for e in report["examples"]["removed"])

    fresh = Workspace(tmp_path / "fresh")
    ingest(str(tree), "p", fresh, IngestConfig(incremental=False))
    for table in ("symbols", "references", "files"):
        assert _table(workspace, "p", table) == _table(fresh, "p", table), table


def test_other_extraction_settings_mean_a_full_ingest(workspace) -> None:
    ingest(str(POLYGLOT), "p", workspace)
    again = ingest(str(POLYGLOT), "p", workspace, IngestConfig(snippet_max_lines=5))
    assert again["reingest"] is False


def test_c_references_from_another_source_than_last_time_mean_a_full_ingest(workspace, monkeypatch) -> None:
    import forklift_core.ingest.extraction as extraction
    from forklift_core.ingest.cscope import cscope_available

    if not cscope_available():
        pytest.skip("cscope is not installed")
    monkeypatch.setattr(extraction, "native_available", lambda: False)  # a build without the native helpers
    first = ingest(str(POLYGLOT), "p", workspace)
    monkeypatch.undo()
    again = ingest(str(POLYGLOT), "p", workspace)  # the same settings, but "auto" now resolves to the native scan
    assert (first["c_references_from"], again["c_references_from"]) == ("cscope", "lexical")
    assert again["reingest"] is False
    assert ingest(str(POLYGLOT), "p", workspace)["reingest"] is True  # the same source again: built on


def test_the_tables_a_reingest_filters_keep_path_statistics(workspace) -> None:
    """A re-ingest reads back only the rows of the files it keeps, by a filter on `path`: Parquet skips a row group
    by the path's min/max, so those are written; the other text columns' statistics help no reader and are not."""
    ingest(str(POLYGLOT), "p", workspace)
    for table in ("symbols", "raw_uses", "references"):
        metadata = pq.ParquetFile(workspace.project("p").table(table)).metadata
        columns = {metadata.row_group(0).column(i).path_in_schema: metadata.row_group(0).column(i)
                   for i in range(metadata.num_columns)}
        assert columns["path"].is_stats_set and columns["line"].is_stats_set, table
        named = "name" if "name" in columns else "dst_name"
        assert not columns[named].is_stats_set, table
