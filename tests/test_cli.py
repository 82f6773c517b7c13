"""The CLI contract later stages and users rely on: JSON shapes, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import POLYGLOT


def forklift(*args: str, workspace: Path) -> subprocess.CompletedProcess[str]:
    """Run the real console entry point in a subprocess."""
    return subprocess.run([sys.executable, "-m", "forklift_core", *args, "--workspace", str(workspace)],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def ingested(tmp_path: Path) -> Path:
    workspace = tmp_path / "ws"
    result = forklift("ingest", str(POLYGLOT), "--project", "poly", "--json", workspace=workspace)
    assert result.returncode == 0, result.stderr
    return workspace


def test_ingest_json_summary(tmp_path: Path) -> None:
    result = forklift("ingest", str(POLYGLOT), "--project", "poly", "--json", workspace=tmp_path / "ws")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert {"project", "files", "skipped", "symbols", "by_kind", "by_language", "references", "seconds",
            "index"} <= set(summary)
    assert summary["project"] == "poly" and summary["files"] == 15
    assert summary["by_kind"]["method"] >= 14 and summary["by_language"]["Python"] >= 7
    assert Path(summary["index"], "symbols.parquet").is_file()


def test_progress_bar_goes_to_stderr(tmp_path: Path) -> None:
    result = forklift("ingest", str(POLYGLOT), "--project", "poly", "--json", "--progress", workspace=tmp_path / "ws")
    assert result.returncode == 0
    assert "%" in result.stderr
    json.loads(result.stdout)  # stdout stays pure JSON


def test_symbols_filters(ingested: Path) -> None:
    result = forklift("symbols", "--project", "poly", "--kind", "method", "--path", "py", "--json", workspace=ingested)
    records = json.loads(result.stdout)
    assert {r["name"] for r in records} == {"__init__", "area", "scaled"}
    assert set(records[0]) == {"name", "kind", "language", "path", "line", "end_line", "scope", "signature"}
    by_name = json.loads(forklift("symbols", "--project", "poly", "--name", "describe", "--json",
                                  workspace=ingested).stdout)
    assert [(r["path"], r["line"], r["end_line"]) for r in by_name] == [("go/server.go", 20, 22)]


def test_refs(ingested: Path) -> None:
    data = json.loads(forklift("refs", "--project", "poly", "--name", "formatGreeting", "--json",
                               workspace=ingested).stdout)
    assert [(c["src_name"], c["path"], c["line"]) for c in data["callers"]] == [("greet", "js/greeter.js", 8)]
    text = forklift("refs", "--project", "poly", "--name", "formatGreeting", workspace=ingested).stdout
    assert "js/greeter.js:8" in text


@pytest.mark.parametrize("args, message", [
    (["ingest", "/does/not/exist", "--project", "x"], "does not exist"),
    (["ingest", "file:///etc", "--project", "x"], "only https"),
    (["ingest", ".", "--project", "../escape"], "not allowed"),
    (["symbols", "--project", "never-ingested"], "no index yet"),
    (["refs", "--project", "poly", "--name", "NoSuchThing"], "no symbol named"),
])
def test_bad_input_exits_nonzero_with_one_line(ingested: Path, args: list[str], message: str) -> None:
    result = forklift(*args, workspace=ingested)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and lines[0].startswith("forklift: error:")
    assert "Traceback" not in result.stderr
