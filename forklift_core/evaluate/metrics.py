"""Per-answer metrics: grounded fact accuracy (parsed, not fuzzy), hallucinated names, chrF and embedding cosine."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Sequence

from forklift_core.generate.answers import states_fact
from forklift_core.generate.families import absent_symbol
from forklift_core.generate.grounding import Vocabulary, looks_like_path, mentions, without_line

# A bare path in prose: folders and a source-file extension, or at least one folder separator.
_BARE_PATH = re.compile(r"(?<![\w/.`-])((?:[\w.-]+/)+[\w.-]+|[\w-]+\.(?:py|pyi|c|h|cc|cpp|hpp|js|jsx|ts|tsx|go|rs|"
                        r"java|rb|md|toml|json|yaml|yml|cfg|sh))(?::\d+)?(?![\w/`])")
_LINE_NEAR_PATH = re.compile(r"(?:line|lines|:)\s*(\d{1,6})", re.IGNORECASE)


@dataclass(frozen=True)
class Grounding:
    """Whether an answer states its fact, and the names in it that the index does not hold."""

    correct: bool
    unknown_names: list[str] = field(default_factory=list)
    file_correct: bool = False  # a definition's file is named (the line aside); other families: same as correct
    abstains: bool = False  # the answer says the name is not there, naming no location

    @property
    def hallucinated(self) -> bool:
        return bool(self.unknown_names)


def stated_paths(answer: str) -> list[str]:
    """File paths an answer names, backticked or bare, without a trailing :line."""
    found = [p for p in map(without_line, mentions(answer)) if looks_like_path(p)]
    found += [m.group(1) for m in _BARE_PATH.finditer(answer)]
    return list(dict.fromkeys(p.strip().rstrip(".,;") for p in found))


def stated_lines(answer: str) -> list[int]:
    """Line numbers an answer states ("line 30", "lines 30-40", "path:30")."""
    return [int(n) for n in _LINE_NEAR_PATH.findall(answer)]


def definition_correct(answer: str, data: dict[str, Any], line_tolerance: int) -> bool:
    """The first definition's path is named and one stated line is within the tolerance of its line."""
    place = data["locations"][0]
    return place["path"] in stated_paths(answer) and any(
        abs(line - place["line"]) <= line_tolerance for line in stated_lines(answer))


def fact_correct(answer: str, family: str, data: dict[str, Any], line_tolerance: int = 3) -> bool:
    """The answer states the fact's key claims; a definition's line may be off by `line_tolerance`."""
    if family == "definition_location":
        return definition_correct(answer, data, line_tolerance)
    return states_fact(answer, family, data)


def unknown_names(answer: str, vocab: Vocabulary) -> list[str]:
    """Paths and backticked names the answer states that the index does not hold."""
    names = [m for m in mentions(answer) if not vocab.knows(m)]
    names += [p for p in stated_paths(answer) if not vocab.knows(p)]
    return list(dict.fromkeys(names))


def grade(answer: str, family: str, data: dict[str, Any], vocab: Vocabulary, line_tolerance: int = 3) -> Grounding:
    """Fact accuracy, the file named, abstention and hallucinations of one answer."""
    correct = fact_correct(answer, family, data, line_tolerance) if family else False
    named_file = data["locations"][0]["path"] in stated_paths(answer) if family == "definition_location" else correct
    return Grounding(correct, unknown_names(answer, vocab), named_file, absent_symbol.abstains(answer))



def chrf(hypotheses: Sequence[str], references: Sequence[str]) -> list[float]:
    """Sentence-level chrF (sacrebleu), scaled to 0..1."""
    from sacrebleu.metrics import CHRF

    metric = CHRF()
    return [metric.sentence_score(h, [r]).score / 100 for h, r in zip(hypotheses, references)]


def cosine(embedder: Any, left: Sequence[str], right: Sequence[str], batch_size: int = 64) -> list[float]:
    """Cosine similarity of each pair of texts (unit vectors, so a row-wise dot product), batched."""
    if not left:
        return []
    vectors = embedder.embed(list(left) + list(right), batch_size=batch_size)
    a, b = vectors[: len(left)], vectors[len(left):]
    return [float(x) for x in (a * b).sum(axis=1)]
