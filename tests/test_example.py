"""The example project a new user sees: ingested, with pairs generated once and kept across restarts."""

import shutil

from forklift_core.curate import review
from forklift_core.curate.review import PairFilter
from forklift_core.curate.store import CurationStore
from forklift_core.example import EXAMPLE_PROJECT, ensure_example_project


def test_example_is_ingested_and_generated_once(workspace, example_template) -> None:
    shutil.copytree(example_template, workspace.root, dirs_exist_ok=True)  # what ensure_example_project's first run left
    summary = workspace.project(EXAMPLE_PROJECT).read_manifest()
    assert summary["symbols"] > 300 and summary["files"] > 50
    store = CurationStore(workspace.project(EXAMPLE_PROJECT).curation_db)
    pair = review.page(store, PairFilter(kind="sft"), 0, 1)[0][0]
    review.edit_pair(store, pair["id"], {"status": "accepted", "answer": "kept"}, pair["version"], "tester")
    ensure_example_project(workspace)  # a restart
    again = review.get_pair(store, pair["id"])
    assert (again["status"], again["answer"]) == ("accepted", "kept")
