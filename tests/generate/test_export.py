"""Export: TRL's conversational formats, every file format, a card with YAML metadata, a stable hash."""

from __future__ import annotations

import json

import pytest
import yaml
from datasets import load_from_disk

from forklift_core.curate.export import export_dataset
from forklift_core.errors import BadInputError, NotFoundError
from forklift_core.generate.pipeline import generate
from forklift_core.ingest.index import ingest
from tests.conftest import POLYGLOT

BOTH = ("accepted", "pending")


@pytest.fixture
def project(workspace):
    ingest(str(POLYGLOT), "poly", workspace)
    generate("poly", workspace)
    return workspace.project("poly")


def _card(folder) -> dict:
    text = (folder / "README.md").read_text()
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


def test_hf_export_is_trl_conversational(project, tmp_path) -> None:
    result = export_dataset(project, tmp_path / "out", "hf", statuses=BOTH)
    sft = load_from_disk(str(tmp_path / "out" / "sft"))
    dpo = load_from_disk(str(tmp_path / "out" / "dpo"))
    assert set(sft) == set(dpo) == {"train", "validation", "test"}
    row = sft["train"][0]
    assert [m["role"] for m in row["messages"]] == ["user", "assistant"]
    pref = dpo["train"][0]
    assert [m["role"] for m in pref["prompt"]] == ["user"]
    assert [m["role"] for m in pref["chosen"]] == [m["role"] for m in pref["rejected"]] == ["assistant"]
    assert pref["chosen"][0]["content"] != pref["rejected"][0]["content"]
    assert {"unseen_phrasing", "held_out_fact"} <= set(sft["test"]["test_kind"])
    assert result["counts"]["sft"]["train"] == len(sft["train"])
    card = _card(tmp_path / "out")
    assert card["forklift"]["source"]["kind"] == "path" and card["forklift"]["dataset_hash"] == result["dataset_hash"]
    assert card["forklift"]["counts"] == result["counts"]
    assert card["forklift"]["families"]["sft"]["definition_location"] > 0
    assert card["forklift"]["generator"]["seed"] == 13 and card["forklift"]["versions"]["forklift"]


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_file_exports_declare_configs_in_the_card(project, tmp_path, fmt: str) -> None:
    result = export_dataset(project, tmp_path / fmt, fmt, statuses=BOTH)
    card = _card(tmp_path / fmt)
    configs = {c["config_name"]: {f["split"]: f["path"] for f in c["data_files"]} for c in card["configs"]}
    assert configs["sft"]["train"] == f"sft/train.{fmt}" and configs["dpo"]["test"] == f"dpo/test.{fmt}"
    for splits in configs.values():
        for relative in splits.values():
            assert (tmp_path / fmt / relative).is_file()
    if fmt == "jsonl":
        first = json.loads((tmp_path / fmt / "sft" / "train.jsonl").read_text().splitlines()[0])
        assert first["messages"][0]["role"] == "user"
    assert result["format"] == fmt


def test_alpaca_export(project, tmp_path) -> None:
    export_dataset(project, tmp_path / "alpaca", "alpaca", statuses=BOTH)
    rows = json.loads((tmp_path / "alpaca" / "alpaca" / "train.json").read_text())
    assert set(rows[0]) == {"instruction", "input", "output"} and rows[0]["output"]


def test_hash_is_stable_and_tracks_content(project, tmp_path) -> None:
    first = export_dataset(project, tmp_path / "a", "jsonl", statuses=BOTH)["dataset_hash"]
    again = export_dataset(project, tmp_path / "a", "jsonl", statuses=BOTH)["dataset_hash"]
    assert again == first  # re-export replaces its own folder
    accepted_only = export_dataset(project, tmp_path / "b", "jsonl", statuses=("pending",))["dataset_hash"]
    assert accepted_only == first  # nothing accepted yet: pending is everything exported
    with_review = export_dataset(project, tmp_path / "c", "jsonl", statuses=("pending", "needs_review"))
    assert with_review["dataset_hash"] != first


def test_export_refuses_to_clobber_a_foreign_folder(project, tmp_path) -> None:
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(BadInputError, match="not a ForkLift export"):
        export_dataset(project, foreign, "jsonl", statuses=BOTH)
    assert (foreign / "notes.txt").read_text() == "keep me"


def test_export_before_generate(workspace) -> None:
    ingest(str(POLYGLOT), "bare", workspace)
    with pytest.raises(NotFoundError, match="forklift generate"):
        export_dataset(workspace.project("bare"))


def test_default_exports_only_accepted_pairs(project, tmp_path) -> None:
    from forklift_core.curate import review
    from forklift_core.curate.review import PairFilter
    from forklift_core.curate.store import CurationStore

    with pytest.raises(BadInputError, match="accept pairs in the Curate tab"):
        export_dataset(project, tmp_path / "none")
    store = CurationStore(project.curation_db)
    changed = review.bulk_edit(store, PairFilter(family="callers"), {"status": "accepted"}, "alice")
    result = export_dataset(project, tmp_path / "accepted")
    assert sum(n for splits in result["counts"].values() for n in splits.values()) == changed
