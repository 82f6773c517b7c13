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


_PANDAS_AFTER_INGEST = """
import sys
import pyarrow as pa
from forklift_core.cli import main
sys.argv = ["forklift", *sys.argv[1:]]
assert main() == 0  # as the command runs
print("pandas imported:", "pandas" in sys.modules)
"""


def test_the_ingest_command_never_imports_pandas(tmp_path: Path) -> None:
    """The command's process ends with the ingest: pyarrow's probe for pandas (half a second) is refused there."""
    result = subprocess.run([sys.executable, "-c", _PANDAS_AFTER_INGEST, "ingest", str(POLYGLOT), "--project", "p",
                             "--quiet", "--workspace", str(tmp_path / "ws")], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("pandas imported: False")


def test_an_ingest_called_from_a_program_leaves_pandas_to_it(tmp_path: Path) -> None:
    """main() called with arguments is part of a program that goes on: pandas stays importable there, and pyarrow
    still knows its objects."""
    program = ("import sys, pyarrow as pa\nfrom forklift_core.cli import main\n"
               f"assert main(['ingest', {str(POLYGLOT)!r}, '--project', 'p', '--quiet', '--workspace', "
               f"{str(tmp_path / 'ws')!r}]) == 0\n"
               "import pandas as pd\nprint(pa.array(pd.Series([1, None], dtype='Int64')).to_pylist())\n")
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("\n[1, None]")


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


def test_generate_and_export(ingested: Path, tmp_path: Path) -> None:
    result = forklift("generate", "--project", "poly", "--json", workspace=ingested)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert set(summary["by_split"]["sft"]) == {"train", "validation", "test"}
    assert summary["by_negative_kind"]["line_shift"] > 0 and "secrets_redacted" in summary
    again = forklift("generate", "--project", "poly", workspace=ingested)  # nothing changed: nothing rewritten
    assert again.returncode == 0 and f"store: 0 of {summary['store']['stored']} pairs written" in again.stdout
    out = tmp_path / "export"
    exported = forklift("export", "--project", "poly", "--out", str(out), "--format", "jsonl", "--json",
                        "--include-unreviewed", workspace=ingested)
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["counts"]["sft"]["train"] > 100
    assert (out / "README.md").is_file() and (out / "dpo" / "train.jsonl").is_file()


@pytest.mark.parametrize("args, message", [
    (["generate", "--project", "poly", "--negatives", "bogus"], "unknown negative sources"),
    (["export", "--project", "poly"], "no generated pairs yet"),
    (["generate", "--project", "poly", "--teacher", "ftp://x"], "teacher_url must be an http(s) URL"),
])
def test_generate_bad_input(ingested: Path, args: list[str], message: str) -> None:
    result = forklift(*args, workspace=ingested)
    assert result.returncode != 0 and message in result.stderr and "Traceback" not in result.stderr
