"""Knowledge-first curriculum: what a time budget trains on when it cannot cover the whole dataset.

A small model learns a fact only from several phrasings of it, seen several times; one pass over a random 12% of
the rows teaches the answers' form and none of their facts. So the budget is spent on the most valuable facts —
the library's own, most-referenced public symbols before tests, examples and private helpers; where things are
defined and what they look like before who changed them last — each with `phrasings` phrasings in `passes`
shuffled passes. Facts the budget cannot reach are left out, and said so.

Each covered fact whose answer an index record holds also gets rows in the grounded form: two phrasings below
the index records of its symbol and of near misses, in a shuffled order (retrieval-augmented fine-tuning with
distractors), so the tuned model learns to read the records `forklift ask --grounded` puts in its prompt, not just
to recall. Abstentions get the records of the near misses alone: no record names the symbol, so there is none.
"""

from __future__ import annotations

import json
import math
import posixpath
import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from forklift_core.evidence import RECORDS_PER_PROMPT, Evidence, NearMisses, with_context
from forklift_core.generate.grounding import mentions
from forklift_core.train.estimate import mean_tokens

# How much a fact of each family is worth, for the same symbol: what a newcomer asks first comes first.
FAMILY_WEIGHT = {
    "definition_location": 1.0, "absent_symbol": 0.9, "build_test": 1.0, "kind_signature": 0.75,
    "parameters_return": 0.7, "members": 0.7, "file_symbols": 0.7, "callers": 0.55, "directory_purpose": 0.5,
    "purpose": 0.45, "callees": 0.4, "enclosing_scope": 0.35, "last_change": 0.2,
}
# Shares of the budget's facts kept for a family whatever the ranking: abstentions are not about any used symbol,
# so the usage weighting alone would never reach them, yet they are what stops the model inventing files.
# 12% made the model abstain on most real names in a 10-minute run (bench/knowledge.py); 5% keeps it honest.
RESERVED_SHARE = {"absent_symbol": 0.05}
# Families whose answer an index record (path:line, kind, name, signature, scope) holds: they get a grounded row.
GROUNDED_FAMILIES = frozenset({"definition_location", "kind_signature", "parameters_return", "enclosing_scope",
                               "absent_symbol"})
GROUNDED_SUFFIX = "+records"  # template_id of a grounded row: its phrasing's id and this
# Share of the grounded rows that are abstentions (records without the name asked about): with only the covered
# absent names (5% of facts), grounded answers copied the nearest record for a name that is not there.
GROUNDED_ABSTAIN_SHARE = 0.3
# Reading records is a skill that serves every fact, trained or not; one row per fact, seen once, did not teach it
# in a 10-minute run (grounded abstention 0.00): two phrasings, each with its own near misses.
GROUNDED_PHRASINGS = 2
_TEST_PARTS = {"test", "tests", "testing", "spec", "specs", "__tests__", "testdata", "fixtures"}
_SIDE_PARTS = {"example", "examples", "bench", "benchmarks", "benches", "docs", "doc", "scripts", "tools", "contrib",
               "samples", "demo", "demos"}


@dataclass(frozen=True)
class FactInfo:
    """What the curriculum needs to know of a fact."""

    fact_id: str
    family: str
    subject: str
    path: str
    references: int = 0  # how often the fact's symbol is used elsewhere in the repository
    symbol_id: str = ""  # the index symbol the fact is about ("" for files, folders and absent names)


def is_test_path(path: str) -> bool:
    """A test file or a file under a test folder (by the ecosystems' naming conventions)."""
    parts = path.lower().split("/")
    name = parts[-1]
    return bool(_TEST_PARTS & set(parts[:-1])) or name.startswith("test_") or \
        posixpath.splitext(name)[0].endswith(("_test", ".test", ".spec", "_spec", "tests"))


def importance(fact: FactInfo) -> float:
    """A fact's worth: its family's weight × its symbol's (public, used, in the library proper)."""
    weight = FAMILY_WEIGHT.get(fact.family, 0.3)
    parts = set(fact.path.lower().split("/")[:-1])
    if fact.path and is_test_path(fact.path):
        weight *= 0.1
    elif parts & _SIDE_PARTS:
        weight *= 0.35
    name = fact.subject.split(".")[-1]
    if name.startswith("_"):
        weight *= 0.3
    return weight * (1.0 + math.log1p(fact.references))


@dataclass
class Curriculum:
    """Rows in training order, and what they cover."""

    rows: list[dict[str, Any]]
    facts_covered: int
    facts_left_out: int
    phrasings: int
    passes: int
    by_family: dict[str, int] = field(default_factory=dict)
    fact_ids: list[str] = field(default_factory=list)
    grounded_rows: int = 0  # rows in the grounded form (records in the prompt)

    def summary(self) -> str:
        """One line for the Train tab and `forklift train`."""
        grounded = f" (+{self.grounded_rows:,} with index records)" if self.grounded_rows else ""
        return (f"{self.facts_covered:,} facts × {self.phrasings} phrasings × {self.passes} passes{grounded}; "
                f"{self.facts_left_out:,} facts left out")

    def to_dict(self) -> dict[str, Any]:
        """For the run's manifest."""
        return {"facts_covered": self.facts_covered, "facts_left_out": self.facts_left_out,
                "phrasings": self.phrasings, "passes": self.passes, "rows": len(self.rows),
                "by_family": self.by_family, "grounded_rows": self.grounded_rows, "summary": self.summary()}


def build_curriculum(rows: Sequence[dict[str, Any]], facts: Iterable[FactInfo], budget_rows: int, phrasings: int,
                     passes: int, seed: int = 13) -> Curriculum:
    """The most important facts that fit `budget_rows`, each with up to `phrasings` phrasings, in `passes` passes.

    Each pass is the same rows in a fresh order, so every fact is seen once per pass and the schedule can stop
    at a pass boundary without favouring any fact.
    """
    by_fact: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_fact[row["fact_id"]].append(row)
    info = {f.fact_id: f for f in facts}
    ranked = sorted(by_fact, key=lambda fid: (-importance(info[fid]) if fid in info else 0.0, fid))
    per_pass = max(1, budget_rows // max(passes, 1))
    chosen: list[dict[str, Any]] = []
    covered: list[str] = []

    def take(candidates: Iterable[str], limit: int) -> None:
        for fact_id in candidates:
            if fact_id in taken:
                continue
            own = sorted(by_fact[fact_id], key=lambda r: r.get("template_id", ""))[:phrasings]
            if len(chosen) + len(own) > limit:
                if len(chosen) >= limit:
                    return
                continue  # a fact with fewer phrasings may still fit the last slots
            chosen.extend(own)
            covered.append(fact_id)
            taken.add(fact_id)

    taken: set[str] = set()
    for family, share in RESERVED_SHARE.items():
        take([fid for fid in ranked if by_fact[fid][0]["family"] == family],
             len(chosen) + max(phrasings, int(per_pass * share)))  # at least one fact, however small the budget
    take(ranked, per_pass)
    rng = random.Random(seed)
    ordered: list[dict[str, Any]] = []
    for _ in range(passes):
        this_pass = list(chosen)
        rng.shuffle(this_pass)
        ordered.extend(this_pass)
    families: dict[str, int] = defaultdict(int)
    for fact_id in covered:
        families[by_fact[fact_id][0]["family"]] += 1
    return Curriculum(ordered, len(covered), len(by_fact) - len(covered), phrasings, passes, dict(sorted(families.items())),
                      covered)


def load_fact_infos(store_path: Any, index_paths: Any) -> list[FactInfo]:
    """Every fact of a project's curation store, with how often its symbol is referenced in the index."""
    from forklift_core.curate.store import CurationStore
    from forklift_core.ingest.tables import IndexReader

    uses: dict[str, int] = defaultdict(int)
    try:
        for edge in IndexReader(index_paths).table("references").select(["dst_id"]).to_pylist():
            if edge["dst_id"]:
                uses[edge["dst_id"]] += 1
    except Exception:  # noqa: BLE001 - an index without references only loses the usage weighting
        pass
    with CurationStore(store_path).read() as db:
        found = db.execute("SELECT id, family, subject, symbol_id, path FROM facts").fetchall()
    return [FactInfo(r["id"], r["family"], r["subject"], r["path"], uses.get(r["symbol_id"], 0), r["symbol_id"])
            for r in found]


def grounded_rows(chosen: Curriculum, rows: Sequence[dict[str, Any]], facts: Iterable[FactInfo],
                  symbols: Sequence[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """Rows for covered facts of grounded families: phrasings with the gold record among near misses above them.

    Abstentions the budget did not cover are added in this form alone, up to GROUNDED_ABSTAIN_SHARE of the rows.
    """
    info = {f.fact_id: f for f in facts}
    by_id = {s["id"]: s for s in symbols}
    misses = NearMisses(symbols)
    phrasings_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: r["template_id"]):
        phrasings_of[row["fact_id"]].append(row)
    first_rows = {fact_id: own[0] for fact_id, own in phrasings_of.items()}
    rng = random.Random(seed + 2)
    covered = set(chosen.fact_ids)
    grounded_facts = [f for f in chosen.fact_ids if f in first_rows and first_rows[f]["family"] in GROUNDED_FAMILIES]
    # Abstentions beyond the covered ones, in the grounded form only, up to their share of the grounded rows.
    spare_absent = sorted(f for f, row in first_rows.items() if row["family"] == "absent_symbol" and f not in covered)
    rng.shuffle(spare_absent)
    have = sum(first_rows[f]["family"] == "absent_symbol" for f in grounded_facts)
    wanted = math.ceil(GROUNDED_ABSTAIN_SHARE * (len(grounded_facts) - have) / (1 - GROUNDED_ABSTAIN_SHARE)) - have
    grounded_facts += spare_absent[: max(0, wanted)]
    made = []
    for fact_id in grounded_facts:
        fact = info.get(fact_id)
        if fact is None:
            continue
        gold = by_id.get(fact.symbol_id)
        if gold is None and first_rows[fact_id]["family"] != "absent_symbol":
            continue  # the record the answer comes from is gone: a grounded row would teach guessing
        for row in phrasings_of[fact_id][:GROUNDED_PHRASINGS]:
            records = ([Evidence.from_symbol(gold)] if gold else []) + misses.pick(
                fact.subject, fact.path, RECORDS_PER_PROMPT - (1 if gold else 0), rng, exclude=fact.symbol_id)
            rng.shuffle(records)
            question, answer = row["messages"][-2]["content"], row["messages"][-1]["content"]
            missing = mentions(question) if row["family"] == "absent_symbol" else []  # the lookup's "no such name"
            made.append({**row, "id": row["id"] + GROUNDED_SUFFIX, "template_id": row["template_id"] + GROUNDED_SUFFIX,
                         "messages": [*row["messages"][:-2],
                                      {"role": "user", "content": with_context(question, records, missing)},
                                      {"role": "assistant", "content": answer}]})
    return made


def plan_curriculum(train_rows: Sequence[dict[str, Any]], facts: Sequence[FactInfo], rows_for: Any, phrasings: int,
                    passes: int, seed: int, max_row_tokens: int = 10**9,
                    symbols: Sequence[dict[str, Any]] = ()) -> tuple[Curriculum, list[dict[str, Any]]]:
    """The curriculum the budget holds over these SFT rows, and its grounded rows (with the index's `symbols`).

    `rows_for(tokens_per_row)` says how many rows the budget holds; the grounded rows are paid for out of it.
    """
    # A batch is as long as its longest row, and its logits grow with it: long rows are left out.
    train_rows = [row for row in train_rows if mean_tokens([row], ("messages",)) <= max_row_tokens]
    tokens = mean_tokens(train_rows, ("messages",))
    chosen = build_curriculum(train_rows, facts, rows_for(tokens), phrasings, passes, seed)
    grounded = grounded_rows(chosen, train_rows, facts, symbols, seed) if symbols else []
    # Re-sized once from the chosen rows' own length (the valuable families are not the average row). The grounded
    # rows grow with the facts chosen, so the budget is shared in the ratio of their tokens to the plain rows'.
    chosen_tokens = mean_tokens(chosen.rows, ("messages",)) or tokens
    grounded_share = (len(grounded) * mean_tokens(grounded, ("messages",))) / max(len(chosen.rows) * chosen_tokens, 1)
    chosen = build_curriculum(train_rows, facts, max(passes, int(rows_for(chosen_tokens) / (1 + grounded_share))),
                              phrasings, passes, seed)
    grounded = grounded_rows(chosen, train_rows, facts, symbols, seed) if symbols else []
    # Three records make a row longer than the plain ones; past half as long again, one row would set the memory.
    grounded = [row for row in grounded if mean_tokens([row], ("messages",)) <= 1.5 * max_row_tokens]
    chosen.grounded_rows = len(grounded)
    return chosen, grounded


def write_curriculum(dataset_dir: Any, out_dir: Any, facts: Sequence[FactInfo], rows_for: Any, phrasings: int,
                     passes: int, seed: int, max_row_tokens: int = 10**9, spare_passes: int = 1,
                     symbols: Sequence[dict[str, Any]] = ()) -> Curriculum:
    """Write the curriculum as a dataset folder beside the export: sft (and dpo) configs the job trains on.

    One spare pass follows the planned ones, so a machine faster than estimated fills its whole budget; the job's
    clock ends the stage either way. DPO keeps the preference pairs of the covered facts; validation is kept as
    exported.
    """
    import pyarrow as pa
    from datasets import Dataset, DatasetDict, load_from_disk

    sft = load_from_disk(str(dataset_dir / "sft"))
    chosen, grounded = plan_curriculum(sft["train"].to_list(), facts, rows_for, phrasings, passes, seed,
                                       max_row_tokens, symbols)
    # The spare passes repeat the chosen rows (one pass is the first len/passes rows) in fresh orders.
    one_pass = chosen.rows[: len(chosen.rows) // max(passes, 1)]
    rng = random.Random(seed + 1)
    all_rows = chosen.rows + grounded + [row for _ in range(spare_passes) for row in rng.sample(one_pass, len(one_pass))]
    # Straight to Arrow with the export's schema: datasets' from_list(features=...) encodes row by row (seconds).
    splits = {"train": Dataset(pa.Table.from_pylist(all_rows, schema=sft["train"].features.arrow_schema))}
    if "validation" in sft:
        splits["validation"] = sft["validation"]
    DatasetDict(splits).save_to_disk(str(out_dir / "sft"))
    # What the evaluation counts as trained: the covered facts and the abstentions trained in the grounded form only.
    grounded_only = sorted({row["fact_id"] for row in grounded} - set(chosen.fact_ids))
    (out_dir / "facts.json").write_text(json.dumps(chosen.fact_ids + grounded_only))
    if (dataset_dir / "dpo").is_dir():
        dpo = load_from_disk(str(dataset_dir / "dpo"))
        covered = set(chosen.fact_ids)
        facts_of_rows = dpo["train"].with_format("arrow")["fact_id"].to_pylist()
        dpo_splits = {"train": dpo["train"].select([i for i, fact in enumerate(facts_of_rows) if fact in covered])}
        if "validation" in dpo:
            dpo_splits["validation"] = dpo["validation"]
        if len(dpo_splits["train"]):
            DatasetDict(dpo_splits).save_to_disk(str(out_dir / "dpo"))
    return chosen

