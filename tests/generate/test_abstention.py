"""Abstention rows: plausible absent names, never real ones, answered without inventing a location."""

from __future__ import annotations

import random

from forklift_core.curate.store import CurationStore
from forklift_core.evaluate.metrics import stated_paths
from forklift_core.generate.facts import IndexView
from forklift_core.generate.families.absent_symbol import FAMILY, abstains, known_names, near_misses
from forklift_core.generate.pipeline import generate
from forklift_core.ingest.index import ingest
from forklift_core.ingest.tables import IndexReader
from tests.conftest import POLYGLOT


def test_abstention_rows_are_never_about_real_names(workspace) -> None:
    ingest(str(POLYGLOT), "poly", workspace)
    summary = generate("poly", workspace)
    assert summary["by_family"][FAMILY] > 0
    store = CurationStore(workspace.project("poly").curation_db)
    view = IndexView.load(IndexReader(workspace.project("poly")))
    known = known_names(view)
    sft = [p for p in store.pairs(kind="sft") if p["family"] == FAMILY]
    for pair in sft:
        name = store.fact(pair["fact_id"])["subject"]
        assert name.lower() not in known, name
        assert f"`{name}`" in pair["question"] and abstains(pair["answer"]) and not stated_paths(pair["answer"])
    dpo = [p for p in store.pairs(kind="dpo") if p["family"] == FAMILY]
    assert dpo and all(stated_paths(p["rejected"]) and not abstains(p["rejected"]) for p in dpo)
    assert {p["split"] for p in sft} >= {"train", "test"}  # some absent names are only ever asked in the test


def test_near_misses_look_like_the_real_name() -> None:
    rng = random.Random(1)
    assert "read_config" in set(near_misses("load_config", rng))
    camel = set(near_misses("ConfigLoader", random.Random(2)))
    assert any(name[0].isupper() and "_" not in name for name in camel)


def test_abstains_recognises_refusals_but_not_locations() -> None:
    assert abstains("There is no load_configs in this repository.")
    assert abstains("I couldn't find `frobnicate` in this codebase.")
    assert not abstains("`load_configs` is defined in `pkg/config.py` at line 12.")
    assert not abstains("There is no doubt: it is in `pkg/config.py:12`.")
