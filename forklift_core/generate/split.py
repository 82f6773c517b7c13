"""Splits that test generalisation: held-out files (or folders) and unseen phrasings of trained facts."""

from __future__ import annotations

import hashlib
import posixpath
from dataclasses import dataclass

from forklift_core.config import GenerateConfig
from forklift_core.records import Fact


def stable_fraction(seed: int, *parts: object) -> float:
    """A deterministic number in [0, 1) for the given parts."""
    digest = hashlib.sha256(":".join(str(p) for p in (seed, *parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass(frozen=True)
class SplitPlan:
    """Which split each fact goes to, and which of a training fact's phrasings is held out for test."""

    fact_split: dict[str, str]
    held_out_phrasing: dict[str, int]  # fact id -> index of the phrasing moved to test

    def place(self, fact_id: str, phrasing_index: int) -> tuple[str, str]:
        """(split, test kind) of one phrasing of one fact."""
        split = self.fact_split[fact_id]
        if split == "test":
            return "test", "held_out_fact"
        if split == "train" and self.held_out_phrasing.get(fact_id) == phrasing_index:
            return "test", "unseen_phrasing"
        return split, ""


def group_of(fact: Fact, holdout_by: str) -> str:
    """The unit held out together, so neighbouring facts cannot leak across splits."""
    if holdout_by == "row" or not fact.path:
        return fact.id  # a fact about no file (an absent name) is its own group
    if holdout_by == "directory":
        return posixpath.dirname(fact.path)
    return fact.path


def plan_splits(facts: list[Fact], config: GenerateConfig, phrasing_counts: dict[str, int]) -> SplitPlan:
    """Assign every fact to a split by hashing its group with the seed (stable when facts are added)."""
    groups = sorted({group_of(f, config.holdout_by) for f in facts})
    scores = {g: stable_fraction(config.seed, "group", g) for g in groups}
    test_groups = {g for g in groups if scores[g] < config.test_fraction}
    validation_groups = {g for g in groups if config.test_fraction <= scores[g] < config.test_fraction
                         + config.validation_fraction}
    ranked = sorted(groups, key=lambda g: scores[g])
    # A small repository still gets a held-out group for each split that asks for one.
    if not test_groups and config.test_fraction > 0 and len(groups) >= 3:
        test_groups = {next(g for g in ranked if g not in validation_groups)}
    if not validation_groups and config.validation_fraction > 0 and len(groups) >= 3:
        validation_groups = {next(g for g in ranked if g not in test_groups)}
    fact_split = {}
    held_out: dict[str, int] = {}
    for fact in facts:
        group = group_of(fact, config.holdout_by)
        split = "test" if group in test_groups else "validation" if group in validation_groups else "train"
        fact_split[fact.id] = split
        count = phrasing_counts.get(fact.id, 0)
        moved = stable_fraction(config.seed, "phrasing", fact.id) < config.unseen_phrasing_fraction
        if split == "train" and count >= 2 and moved:
            held_out[fact.id] = int(stable_fraction(config.seed, "which", fact.id) * count)
    return SplitPlan(fact_split, held_out)
