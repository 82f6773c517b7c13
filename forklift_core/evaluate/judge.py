"""Blind A/B judgments: kept as a tally, and a judged pair becomes a DPO pair in the curation store."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

from forklift_core.curate.store import CurationStore, now_utc
from forklift_core.errors import BadInputError
from forklift_core.records import stable_id

VERDICTS = ("a", "b", "both_wrong")
HUMAN_FAMILY = "human_judgment"


@dataclass(frozen=True)
class BlindPair:
    """Two answers in a random order; which system wrote each stays hidden until the verdict."""

    question: str
    answer_a: str
    answer_b: str
    system_a: str
    system_b: str


def blind(question: str, answers: dict[str, str], rng: random.Random | None = None) -> BlindPair:
    """The two systems' answers shuffled into A and B."""
    (first, text_1), (second, text_2) = sorted(answers.items())
    if (rng or random.Random()).random() < 0.5:
        first, text_1, second, text_2 = second, text_2, first, text_1
    return BlindPair(question, text_1, text_2, first, second)


def record(store: CurationStore, run_id: str, pair: BlindPair, verdict: str, user: str,
           to_curation: bool = True) -> dict[str, Any]:
    """Keep the verdict; with a winner and to_curation, also add the (winner, loser) DPO pair, accepted by `user`."""
    if verdict not in VERDICTS:
        raise BadInputError(f"verdict must be one of {', '.join(VERDICTS)}")
    pair_id = ""
    if verdict != "both_wrong" and to_curation:
        chosen, rejected = (pair.answer_a, pair.answer_b) if verdict == "a" else (pair.answer_b, pair.answer_a)
        if chosen.strip() == rejected.strip():
            raise BadInputError("both answers are the same text: there is nothing to prefer")
        pair_id = _add_preference(store, pair.question, chosen, rejected, user)
    with store.connect() as db:
        db.execute("INSERT INTO judgments (at, user, run_id, question, answer_a, answer_b, system_a, system_b, "
                   "verdict, pair_id) VALUES (?,?,?,?,?,?,?,?,?,?)",
                   (now_utc(), user, run_id, pair.question, pair.answer_a, pair.answer_b, pair.system_a, pair.system_b,
                    verdict, pair_id))
    winner = {"a": pair.system_a, "b": pair.system_b}.get(verdict, "both wrong")
    return {"winner": winner, "pair_id": pair_id, "tally": tally(store, run_id)}


def _add_preference(store: CurationStore, question: str, chosen: str, rejected: str, user: str) -> str:
    """A DPO pair written by a person: version 2 (so regeneration keeps it), accepted, logged."""
    pair_id = stable_id("judged", question, chosen, rejected)
    now = now_utc()
    with store.connect() as db:
        matched = db.execute("SELECT fact_id, family FROM pairs WHERE kind = 'sft' AND question = ? LIMIT 1",
                             (question,)).fetchone()
        if matched:
            fact_id, family = matched["fact_id"], matched["family"]
        else:  # a free question: its own fact, holding no evidence but the person's verdict
            fact_id, family = stable_id("judged-fact", question), HUMAN_FAMILY
            db.execute("INSERT OR IGNORE INTO facts (id, family, subject, symbol_id, path, line, end_line, evidence, "
                       "data) VALUES (?,?,?,?,?,?,?,?,?)", (fact_id, family, question, "", "", 0, 0, "", "{}"))
        row = {"id": pair_id, "kind": "dpo", "family": family, "fact_id": fact_id, "template_id": "judged",
               "split": "train", "test_kind": "", "question": question, "answer": chosen, "concise": "",
               "rejected": rejected, "negative_kind": "human_ab", "status": "accepted", "flags": ""}
        db.execute(f"INSERT OR IGNORE INTO pairs ({', '.join(row)}, version, created_at, updated_at, updated_by) "
                   f"VALUES ({', '.join('?' for _ in row)}, 2, ?, ?, ?)", (*row.values(), now, now, user))
        db.execute("INSERT INTO edit_log (pair_id, user, at, before, after, base_version) VALUES (?,?,?,?,?,?)",
                   (pair_id, user, now, "{}", json.dumps(row), 0))
    return pair_id


def tally(store: CurationStore, run_id: str) -> dict[str, int]:
    """How often each system won this run's blind comparisons, and how often both were wrong."""
    counts: dict[str, int] = {}
    with store.read() as db:
        for row in db.execute("SELECT system_a, system_b, verdict FROM judgments WHERE run_id = ?", (run_id,)):
            winner = {"a": row["system_a"], "b": row["system_b"]}.get(row["verdict"], "both wrong")
            counts[winner] = counts.get(winner, 0) + 1
    return counts
