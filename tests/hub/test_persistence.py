"""Reviews survive a Space restart: the edit logs go to a private dataset repo and come back into the stores."""

from __future__ import annotations

import shutil

from forklift_core.curate.review import edit_pair, get_pair
from forklift_core.curate.store import CurationStore
from forklift_core.hub.persistence import start_edit_log_sync
from forklift_core.workspace import Workspace


def test_edits_pushed_by_the_scheduler_are_replayed_into_a_fresh_workspace(project, hub, fake_hub, generated_polyglot,
                                                                           tmp_path) -> None:
    workspace, name = project
    store = CurationStore(workspace.project(name).curation_db)
    pair = store.pairs(kind="sft")[0]
    edit_pair(store, pair["id"], {"answer": "Reviewed by a person.", "status": "accepted"}, pair["version"], "ada")
    scheduler = start_edit_log_sync(hub, workspace, "ada/forklift-edits", every_minutes=60)
    scheduler.push_to_hub()  # what the schedule does every few minutes, and once more at shutdown
    scheduler.stop()
    assert fake_hub.repos[("dataset", "ada/forklift-edits")].private
    assert f"{name}/edit_log.jsonl" in fake_hub.files("dataset", "ada/forklift-edits")

    # The Space restarts on an empty disk: the project is regenerated, then the edits come back from the repo.
    shutil.copytree(generated_polyglot, tmp_path / "restarted")
    restarted = Workspace(tmp_path / "restarted")
    assert get_pair(CurationStore(restarted.project(name).curation_db), pair["id"])["answer"] != "Reviewed by a person."
    start_edit_log_sync(hub, restarted, "ada/forklift-edits", every_minutes=60).stop()
    back = get_pair(CurationStore(restarted.project(name).curation_db), pair["id"])
    assert (back["answer"], back["status"], back["updated_by"]) == ("Reviewed by a person.", "accepted", "ada")


def test_the_sync_starts_only_when_asked_and_the_workspace_is_not_persistent(project, fake_hub, monkeypatch) -> None:
    from forklift_core.hub.persistence import start_edit_log_sync_from_env
    from tests.hub.conftest import TOKEN

    workspace, _ = project
    assert start_edit_log_sync_from_env(workspace) is None
    monkeypatch.setenv("FORKLIFT_SYNC_REPO", "ada/space-edits")
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.setenv("HF_ENDPOINT", fake_hub.url)
    scheduler = start_edit_log_sync_from_env(workspace)
    scheduler.stop()
    assert fake_hub.repos[("dataset", "ada/space-edits")].private
