"""Index records as evidence in a prompt: one format for grounded answers and for the training rows that teach them.

A grounded answer reads the index's records for the symbols a question names; a model learns to read them only
if it was trained on the same records, the right one among near misses (retrieval-augmented fine-tuning with
distractors). Both sides render evidence here, so the format a model is trained on is the format it is asked in.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

RECORDS_PER_PROMPT = 3  # the gold record and two near misses in training; the top three retrieved when asking
# A record stays short: a batch's memory grows with its longest row (activations of every layer), so a docstring
# or a long signature in each of three records would double a grounded row.
SIGNATURE_CHARS = 80
_PREFIX = 4  # names sharing this many leading characters are near misses of each other


def qualified_name(symbol: dict[str, Any]) -> str:
    """A symbol's name with its scope, dotted: `Store.read` for a method (C++'s `::` becomes `.`)."""
    scope = (symbol.get("scope") or "").replace("::", ".")
    return f"{scope}.{symbol['name']}" if scope else symbol["name"]


@dataclass(frozen=True)
class Evidence:
    """One index record: where a symbol is defined, what it is and its signature."""

    path: str
    line: int
    name: str  # qualified: `Store.read` for a method
    kind: str = ""
    signature: str = ""

    @classmethod
    def from_symbol(cls, symbol: dict[str, Any]) -> "Evidence":
        """The record of one row of the index's symbols table."""
        signature = symbol.get("signature") or ""
        if len(signature) > SIGNATURE_CHARS:
            signature = signature[: SIGNATURE_CHARS - 1] + "…"
        return cls(symbol["path"], int(symbol["line"]), qualified_name(symbol), symbol.get("kind") or "", signature)

    def render(self) -> str:
        """One line: `path:line kind `name(signature)``."""
        signature = self.signature if self.signature.startswith("(") else ""
        return f"{self.path}:{self.line} {self.kind} `{self.name}{signature}`".replace("  ", " ")


def with_context(question: str, evidence: Sequence[Evidence], missing: Sequence[str] = ()) -> str:
    """The question with the index records above it, and the names it asks about that the index lacks.

    The exact lookup knows when a name is not in the index; saying so is what lets a small model abstain instead of
    answering with the nearest record (a near miss like `load_configs` beside `load_config` is easy to misread).
    """
    if not evidence and not missing:
        return question
    parts = []
    if evidence:
        parts.append("Records from the repository's index (path:line kind name):\n" +
                     "\n".join(f"- {e.render()}" for e in evidence))
    if missing:
        parts.append("The index has no symbol, file or folder named " + ", ".join(f"`{m}`" for m in missing) + ".")
    return "\n\n".join(parts) + f"\n\nUsing the records, answer: {question}"


class NearMisses:
    """Symbols that look like a given name (same name in another scope, same prefix, same file): distractors."""

    def __init__(self, symbols: Iterable[dict[str, Any]]) -> None:
        self.symbols = list(symbols)
        self.by_name: dict[str, list[int]] = defaultdict(list)
        self.by_prefix: dict[str, list[int]] = defaultdict(list)
        self.by_path: dict[str, list[int]] = defaultdict(list)
        for index, symbol in enumerate(self.symbols):
            self.by_name[symbol["name"]].append(index)
            self.by_prefix[symbol["name"][:_PREFIX].lower()].append(index)
            self.by_path[symbol["path"]].append(index)

    def pick(self, name: str, path: str, count: int, rng: random.Random, exclude: str = "") -> list[Evidence]:
        """Up to `count` records of other symbols, the most confusable first (never the symbol `exclude` names)."""
        short = name.split(".")[-1]
        everything = range(len(self.symbols))
        chosen: list[int] = []
        for pool in (self.by_name.get(short, []), self.by_prefix.get(short[:_PREFIX].lower(), []),
                     self.by_path.get(path, []), everything):
            if len(pool) > 8 * count:  # a common prefix, a long file, the whole index: sample, do not scan
                pool = rng.sample(pool, 8 * count)
            candidates = [i for i in pool if i not in chosen and self.symbols[i]["id"] != exclude
                          and qualified_name(self.symbols[i]) != name]
            rng.shuffle(candidates)
            chosen.extend(candidates[: count - len(chosen)])
            if len(chosen) >= count:
                break
        return [Evidence.from_symbol(self.symbols[i]) for i in chosen]
