"""Real clones over https from a local smart-HTTP server: commit recorded, symlinks inert, caps enforced."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from forklift_core.config import IngestConfig
from forklift_core.errors import BadInputError
from forklift_core import netguard
from forklift_core.ingest.index import ingest
from forklift_core.ingest.tables import IndexReader
from tests.conftest import git
from tests.ingest.git_server import GitHttpsServer, make_certificate


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A work repo, its bare copy served over TLS, and loopback allowed for this test only."""
    work = tmp_path / "work"
    (work / "pkg").mkdir(parents=True)
    (work / "pkg" / "core.py").write_text("def serve():\n    return helper()\n\n\ndef helper():\n    return 1\n")
    os.symlink("/etc/passwd", work / "passwd.py")
    (work / ".gitmodules").write_text('[submodule "dep"]\n\tpath = dep\n\turl = https://127.0.0.1:1/dep.git\n')
    (work / "blob.bin").write_bytes(os.urandom(3 * 1024 * 1024))
    git(work, "init", "-q", "-b", "main")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "first")
    (work / "pkg" / "later.py").write_text("def later():\n    pass\n")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "second")
    served_root = tmp_path / "served"
    served_root.mkdir()
    git(tmp_path, "clone", "-q", "--bare", str(work), str(served_root / "repo.git"))
    cert, key = make_certificate(tmp_path)
    monkeypatch.setenv("GIT_SSL_CAINFO", str(cert))
    monkeypatch.setattr(netguard, "is_public", lambda address: True)  # the server is on loopback
    with GitHttpsServer(served_root, cert, key) as server:
        yield f"https://127.0.0.1:{server.port}/repo.git", git(work, "rev-parse", "HEAD")


def test_clone_over_https_records_the_commit(served, workspace) -> None:
    url, head = served
    summary = ingest(url, "cloned", workspace)
    assert summary["commit"] == head
    assert summary["source"] == {"kind": "git", "origin": url}
    reader = IndexReader(workspace.project("cloned"))
    callers = reader.references("helper")["callers"]
    assert [(c["src_name"], c["path"], c["line"]) for c in callers] == [("serve", "pkg/core.py", 2)]
    assert reader.symbols(name="later")  # the newest commit is what was cloned
    assert not workspace.project("cloned").scratch_dir.exists()


def test_symlinks_arrive_as_inert_text_and_submodules_stay_out(served, workspace) -> None:
    url, _ = served
    ingest(url, "cloned", workspace)
    files = set(IndexReader(workspace.project("cloned")).table("files")["path"].to_pylist())
    assert "passwd.py" in files  # core.symlinks=false: a small file holding the link text
    snippet_sources = " ".join(s["snippet"] for s in IndexReader(workspace.project("cloned")).symbols())
    assert "root:" not in snippet_sources
    assert not any(f.startswith("dep/") for f in files)


def test_clone_size_cap(served, workspace) -> None:
    url, _ = served
    with pytest.raises(BadInputError, match="larger than 1 MiB"):
        ingest(url, "cloned", workspace, IngestConfig(clone_max_mb=1))
    assert not workspace.project("cloned").scratch_dir.exists()


def test_unreachable_repository_is_a_clear_error(served, workspace) -> None:
    url, _ = served
    from forklift_core.errors import ToolError

    with pytest.raises(ToolError, match="git clone failed"):
        ingest(url.replace("repo.git", "missing.git"), "cloned", workspace)
