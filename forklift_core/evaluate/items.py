"""The evaluation items: test-split questions with their reference answers and the facts that grade them."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forklift_core.curate.store import CurationStore
from forklift_core.errors import BadInputError, NotFoundError
from forklift_core.generate.split import stable_fraction


@dataclass(frozen=True)
class EvalItem:
    """One question to ask both models."""

    id: str
    question: str
    reference: str
    family: str
    test_kind: str  # unseen_phrasing | held_out_fact
    fact_data: dict[str, Any]
    subject: str


def load_test_rows(dataset_dir: Path) -> list[dict[str, Any]]:
    """The SFT test split the run exported (so base and tuned are scored on what training never saw)."""
    from datasets import load_from_disk

    folder = dataset_dir / "sft"
    if not (folder / "dataset_dict.json").is_file():
        raise NotFoundError(f"no exported SFT dataset in {dataset_dir}")
    data = load_from_disk(str(folder))
    if "test" not in data or len(data["test"]) == 0:
        raise BadInputError("the run's dataset has no test split to evaluate on")
    return list(data["test"])


def spread(rows: list[dict[str, Any]], limit: int, seed: int) -> list[dict[str, Any]]:
    """Up to `limit` rows taken in turn from every (family, test kind) group, each group in a stable random order."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: stable_fraction(seed, "eval", r["id"])):
        groups[(row["family"], row["test_kind"])].append(row)
    if not limit or limit >= len(rows):
        return [r for key in sorted(groups) for r in groups[key]]
    chosen: list[dict[str, Any]] = []
    queues = [groups[key] for key in sorted(groups)]
    depth = 0
    while len(chosen) < limit:
        layer = [q[depth] for q in queues if depth < len(q)]
        if not layer:
            break
        chosen.extend(layer[: limit - len(chosen)])
        depth += 1
    return chosen


def trained_facts(run_dir: Path) -> set[str] | None:
    """The facts a curriculum run trained on (None when it trained on every exported row)."""
    path = run_dir / "curriculum" / "facts.json"
    return set(json.loads(path.read_text())) if path.is_file() else None


def eval_items(dataset_dir: Path, store: CurationStore, limit: int, seed: int,
               trained: set[str] | None = None,
               test_kinds: tuple[str, ...] = ("unseen_phrasing", "held_out_fact")) -> list[EvalItem]:
    """The test items to evaluate, each with the fact it is graded against.

    `unseen_phrasing` asks what training can teach: a fact trained under other phrasings. When the run trained on a
    curriculum, only its facts count there; `held_out_fact` (files never trained on) is kept whole.
    """
    rows = [r for r in load_test_rows(dataset_dir) if r["test_kind"] in test_kinds and
            (trained is None or r["test_kind"] != "unseen_phrasing" or r["fact_id"] in trained)]
    items = []
    for row in spread(rows, limit, seed):
        fact = store.fact(row["fact_id"])
        items.append(EvalItem(row["id"], row["messages"][-2]["content"], row["messages"][-1]["content"],
                              row["family"], row["test_kind"], fact["data"], fact["subject"]))
    return items


def match_question(store: CurationStore, question: str) -> EvalItem | None:
    """The dataset item whose question is exactly this one (so `forklift ask` and the Compare tab can score it)."""
    wanted = " ".join(question.split())
    for pair in store.pairs(kind="sft"):
        if " ".join(pair["question"].split()) == wanted:
            fact = store.fact(pair["fact_id"])
            return EvalItem(pair["id"], pair["question"], pair["answer"], pair["family"], pair["test_kind"],
                            fact["data"], fact["subject"])
    return None
