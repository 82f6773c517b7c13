"""Hostile trees that used to crash, bombs caught while streaming, secrets and user files kept safe."""

from __future__ import annotations

import errno
import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from forklift_core.cli import main
from forklift_core.config import IngestConfig
from forklift_core.curate.export import export_dataset
from forklift_core.errors import BadInputError
from forklift_core.curate.store import CurationStore
from forklift_core.generate.pipeline import generate
from forklift_core.generate.secrets import redact_for_display
from forklift_core.ingest import archives
from forklift_core.ingest.archives import ArchiveLimits, extract_archive
from forklift_core.ingest.index import ingest
from forklift_core.ingest.tables import IndexReader
from forklift_core.workspace import check_project_name
from tests.conftest import POLYGLOT
from tests.security.hostile import everything_under, tar_gz


def test_non_utf8_file_names_are_skipped_and_counted(tmp_path, workspace) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "good.py").write_text("def good():\n    pass\n")
    fd = os.open(os.fsencode(repo) + b"/bad\xff.py", os.O_WRONLY | os.O_CREAT)
    os.write(fd, b"def bad():\n    pass\n")
    os.close(fd)
    summary = ingest(str(repo), "names", workspace)
    assert summary["skipped"]["undecodable_name"] == 1
    assert summary["files"] == 1
    archive = tar_gz(tmp_path / "latin.tar.gz", [("p/good.py", b"def good():\n    pass\n"),
                                                 ("p/caf\xe9.py", b"def cafe():\n    pass\n")], encoding="latin-1",
                     gnu=True)
    assert ingest(str(archive), "latin", workspace)["skipped"]["archive_unsafe_name"] == 1


def test_a_thousand_nested_folders_in_an_archive(tmp_path, workspace) -> None:
    deep = "/".join(["d"] * 1100)
    archive = tar_gz(tmp_path / "deep.tar.gz", [("top/a.py", b"def shallow():\n    pass\n"),
                                                (f"top/{deep}/", None), (f"top/{deep}/z.py", b"def deep():\n    pass\n")])
    assert archive.stat().st_size < 4096
    summary = ingest(str(archive), "deep", workspace)
    assert summary["skipped"]["archive_too_deep"] == 2
    assert {row["name"] for row in IndexReader(workspace.project("deep")).symbols()} == {"shallow"}


def test_deep_local_tree_stops_at_the_depth_cap(tmp_path, workspace) -> None:
    repo = tmp_path / "repo"
    deep = repo.joinpath(*["d"] * 12)
    deep.mkdir(parents=True)
    (deep / "z.py").write_text("def deep():\n    pass\n")
    (repo / "a.py").write_text("def shallow():\n    pass\n")
    summary = ingest(str(repo), "deep", workspace, IngestConfig(max_depth=5))
    assert summary["skipped"]["too_deep_dir"] == 1 and summary["files"] == 1


def test_a_tar_bomb_stops_while_its_member_streams(tmp_path, monkeypatch) -> None:
    archive = tmp_path / "bomb.tar.gz"
    size = 64 << 20  # 64 MiB of zeros packs to about 64 KiB
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("bomb/zeros.py")
        info.size = size
        tar.addfile(info, io.BytesIO(bytes(size)))
    packed = archive.stat().st_size
    written: list[int] = []
    real_copy = archives._copy_capped

    def spy(src, dest, byte_budget, ratio_budget, ratio):  # noqa: ANN001 - records how far the copy got
        try:
            return real_copy(src, dest, byte_budget, ratio_budget, ratio)
        finally:
            written.append(dest.stat().st_size)

    monkeypatch.setattr(archives, "_copy_capped", spy)
    with pytest.raises(BadInputError, match="possible bomb"):
        extract_archive(archive, tmp_path / "out", ArchiveLimits(1 << 30, 1000, 100))
    assert written and written[0] <= max(100 * packed, 1 << 20) < size  # stopped at the cap, not after the member


LEXER_TRAP = (
    "def safe():\n    return 1\n\n"
    "x = f'''{f\"{f'{safe()}'}\"}'''\n"  # f-strings nested in three quote kinds
    "y = '" + "(" * 20000 + "\n"  # an unterminated string of open brackets
    "z = f\"" + "{" * 5000 + "safe()" + "}" * 5000 + "\"\n"  # thousands of nested braces
    "safe()\n"
    '"""never closed\n' + "safe()\n" * 100  # a string left open to the end of the file
)


def test_python_that_defeats_a_lexer_still_ingests(tmp_path, workspace) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "lexer_trap.py").write_text(LEXER_TRAP)
    summary = ingest(str(repo), "trap", workspace, IngestConfig(python_references="lexical"))
    assert summary["python_references_from"] == "lexical" and summary["symbols"] >= 1
    uses = IndexReader(workspace.project("trap")).table("raw_uses").to_pylist()
    lines = sorted(u["line"] for u in uses if u["name"] == "safe")
    assert lines[0] == 4 and 7 in lines  # inside the nested f-strings, and the plain call after the traps
    assert max(lines) == 7  # nothing inside the string left open at the end


C_LEXER_TRAP = (
    b"int ok(void) { return safe(1); }\n"
    b"\xff int \x80x(1); \"never closed(2)\n"  # stray bytes; a string left open ends with its line
    b"int after(void) { return safe(3); }\n"
    + (b"(" * 200 + b"\n") * 100  # brackets no parser would nest
    + b"#define M(x) \\\n  safe(x)\n"  # a macro's body over a continued line
    + b"/* a comment left open to the end\nsafe(4);\n"
)


def test_c_that_defeats_a_lexer_still_ingests(tmp_path, workspace) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "trap.c").write_bytes(C_LEXER_TRAP)
    summary = ingest(str(repo), "ctrap", workspace, IngestConfig(c_references="lexical"))
    assert summary["c_references_from"] == "lexical"
    uses = IndexReader(workspace.project("ctrap")).table("raw_uses").to_pylist()
    assert sorted(u["line"] for u in uses if u["name"] == "safe") == [1, 3, 105]  # nothing from the open comment


def test_project_name_with_a_trailing_newline_is_refused() -> None:
    with pytest.raises(BadInputError, match="not allowed"):
        check_project_name("demo\n")
    assert check_project_name("demo") == "demo"


def test_secrets_found_anywhere_are_redacted_everywhere(tmp_path, workspace) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "settings.py").write_text('def connect():\n    """Open the database."""\n'
                                      '    password = "Velvet-Otter-42"\n    return password\n')
    (repo / "admin.py").write_text(
        'def login():\n    """Log in as admin with Velvet-Otter-42 when the server is fresh."""\n    return 1\n\n\n'
        'def reset():\n    """Reset the account. The default password is Tr0ub4dor&3x."""\n    return 2\n\n\n'
        'def call_api():\n    """Calls the API with k8Jd92LmQp0Zx7Vb3Nc6Tr1Ws4Ye5Ua2 as the bearer."""\n    return 3\n')
    ingest(str(repo), "secrets", workspace)
    summary = generate("secrets", workspace)
    assert summary["secrets_redacted"] >= 3
    out = export_dataset(workspace.project("secrets"), fmt="jsonl", statuses=("accepted", "pending"))
    paths = workspace.project("secrets")
    written = everything_under(Path(out["out"])) + paths.curation_db.read_bytes()
    values = ("Velvet-Otter-42", "Tr0ub4dor&3x", "k8Jd92LmQp0Zx7Vb3Nc6Tr1Ws4Ye5Ua2")
    for value in values:
        assert value.encode() not in written
    assert b"REDACTED" in written
    # The index keeps the source as it is; what a visitor is shown of it is redacted the same way.
    fingerprints = {hit["fingerprint"] for hit in CurationStore(paths.curation_db).secret_hits()}
    for row in IndexReader(paths).symbols():
        shown = redact_for_display(row["snippet"], fingerprints) + redact_for_display(row["doc"], fingerprints)
        assert not any(value in shown for value in values), row["name"]


def test_export_never_deletes_a_partial_folder_it_did_not_make(tmp_path, workspace) -> None:
    ingest(str(POLYGLOT), "poly", workspace)
    generate("poly", workspace)
    out = tmp_path / "mine"
    partial = tmp_path / "mine.partial"
    partial.mkdir()
    (partial / "notes.txt").write_text("my own work")
    with pytest.raises(BadInputError, match="not made by ForkLift"):
        export_dataset(workspace.project("poly"), out=out, fmt="jsonl", statuses=("pending",))
    assert (partial / "notes.txt").read_text() == "my own work"
    (partial / "notes.txt").rename(tmp_path / "notes.txt")
    partial.rmdir()
    export_dataset(workspace.project("poly"), out=out, fmt="jsonl", statuses=("pending",))
    assert (out / "README.md").is_file() and not partial.exists()


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "forklift_core", *args], capture_output=True, text=True, timeout=300)


def test_a_workspace_that_is_a_file_gives_one_line(tmp_path) -> None:
    blocker = tmp_path / "ws"
    blocker.write_text("not a folder")
    result = _run_cli("ingest", str(POLYGLOT), "--project", "p", "--workspace", str(blocker), "--quiet")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "FORKLIFT_WORKSPACE" in result.stderr
    assert blocker.read_text() == "not a folder"


@pytest.mark.parametrize("code, hint", [(errno.ENOSPC, "disk is full"), (errno.EROFS, "read-only"),
                                        (errno.EACCES, "not writable")])
def test_full_or_read_only_disk_gives_one_line(tmp_path, monkeypatch, capsys, code: int, hint: str) -> None:
    # Root ignores permissions and a full disk cannot be made here: the write itself is made to fail as the OS would.
    import forklift_core.ingest.tables as tables

    def failing_write(*args, **kwargs):  # noqa: ANN002, ANN003
        raise OSError(code, os.strerror(code), str(tmp_path / "ws" / "p" / "index" / "symbols.parquet"))

    monkeypatch.setattr(tables.pq, "write_table", failing_write)
    status = main(["ingest", str(POLYGLOT), "--project", "p", "--workspace", str(tmp_path / "ws"), "--quiet"])
    err = capsys.readouterr().err
    assert status == 2 and hint in err and len(err.strip().splitlines()) == 1
    project = tmp_path / "ws" / "p"  # no half-written index, and no scratch left behind
    assert not (project / "index").exists() and not list(project.glob(".index-*"))
    assert not list((project / ".scratch").glob("*"))


def test_piping_symbols_into_head_is_quiet(tmp_path) -> None:
    workspace = tmp_path / "ws"
    assert _run_cli("ingest", str(POLYGLOT), "--project", "p", "--workspace", str(workspace), "--quiet").returncode == 0
    command = (f"{sys.executable} -m forklift_core symbols --project p --workspace {workspace} --limit 100000 "
               "| head -1")
    result = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, timeout=120)
    assert result.stdout.count("\n") == 1
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr


@pytest.mark.parametrize("prlimit_refused", [False, True])
def test_ctags_reads_the_names_it_is_given_under_the_memory_cap(tmp_path, monkeypatch, prlimit_refused: bool) -> None:
    import resource

    from forklift_core.ingest import ctags

    if prlimit_refused:  # a sandbox that refuses prlimit: the hook in the child sets the cap instead
        monkeypatch.setattr(ctags.resource, "prlimit", lambda *args: (_ for _ in ()).throw(PermissionError()))
    # A stand-in for ctags: it reads the file list, as ctags -L - does, then reports the cap it runs under.
    report = "import resource, sys; names = sys.stdin.read(); print(len(names), resource.getrlimit(resource.RLIMIT_AS)[0])"
    code, out, _ = ctags._run_capped([sys.executable, "-c", report], str(tmp_path), b"./a.c\n", 60, 3 << 30)
    assert code == 0 and out.decode().split() == ["6", str(3 << 30)]
    assert resource.getrlimit(resource.RLIMIT_AS)[0] != 3 << 30  # this process keeps its own
