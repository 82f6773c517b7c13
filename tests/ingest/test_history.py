"""Git history: when each file last changed and why; never read from an uploaded archive."""

from __future__ import annotations

import tarfile

from forklift_core.curate.store import CurationStore
from forklift_core.generate.pipeline import generate
from forklift_core.ingest.index import ingest
from forklift_core.ingest.tables import IndexReader
from tests.conftest import git


def test_history_and_last_change_pairs(polyglot_repo, workspace) -> None:
    first = git(polyglot_repo, "rev-parse", "HEAD")
    target = polyglot_repo / "c" / "stack.c"
    target.write_text(target.read_text() + "\n/* end of stack */\n")
    git(polyglot_repo, "commit", "-q", "-am", "Document the end of the stack module")
    second = git(polyglot_repo, "rev-parse", "HEAD")
    summary = ingest(str(polyglot_repo), "poly", workspace)
    assert summary["history_commits"] == 2
    changes = {(h["path"], h["rank"]): h for h in IndexReader(workspace.project("poly")).history()}
    assert changes[("c/stack.c", 0)]["commit"] == second and changes[("c/stack.c", 1)]["commit"] == first
    assert changes[("c/stack.c", 0)]["subject"] == "Document the end of the stack module"
    assert changes[("go/server.go", 0)]["commit"] == first
    generate("poly", workspace)
    store = CurationStore(workspace.project("poly").curation_db)
    sft = {p["question"]: p for p in store.pairs(kind="sft")}
    answer = sft["When did `c/stack.c` last change, and why?"]["answer"]
    assert answer.startswith("`c/stack.c` last changed on ") and second[:12] in answer
    assert '"Document the end of the stack module"' in answer
    dpo = [p for p in store.pairs(kind="dpo") if p["family"] == "last_change" and "c/stack.c" in p["question"]]
    assert dpo and all(p["negative_kind"] == "older_commit" and first[:12] in p["rejected"] for p in dpo)


def test_archives_carry_no_history(polyglot_repo, workspace, tmp_path) -> None:
    archive = tmp_path / "repo.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(polyglot_repo, arcname="repo")  # .git included: the commit is read, git never runs
    summary = ingest(str(archive), "up", workspace)
    assert summary["commit"] == git(polyglot_repo, "rev-parse", "HEAD")
    assert summary["history_commits"] == 0 and IndexReader(workspace.project("up")).history() == []
