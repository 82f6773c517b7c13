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
DOC_CHARS = 100  # the first sentence of a docstring is enough to say what a symbol is for
_PREFIX = 4  # names sharing this many leading characters are near misses of each other


@dataclass(frozen=True)
class Evidence:
    """One index record: where a symbol is defined, what it is, its signature and the start of its docstring."""

    path: str
    line: int
    name: str  # qualified: `Store.read` for a method
    kind: str = ""
    signature: str = ""
    doc: str = ""

    @classmethod
    def from_symbol(cls, symbol: dict[str, Any]) -> "Evidence":
        """The record of one row of the index's symbols table."""
        scope = (symbol.get("scope") or "").replace("::", ".")
        name = f"{scope}.{symbol['name']}" if scope else symbol["name"]
        doc = (symbol.get("doc") or "").strip().split("\n")[0][:DOC_CHARS]
        return cls(symbol["path"], int(symbol["line"]), name, symbol.get("kind") or "",
                   symbol.get("signature") or "", doc)

    def render(self) -> str:
        """One line: `path:line kind `name(signature)` — doc`."""
        signature = self.signature if self.signature.startswith("(") else ""
        text = f"{self.path}:{self.line} {self.kind} `{self.name}{signature}`".replace("  ", " ")
        return f"{text} — {self.doc}" if self.doc else text


def with_context(question: str, evidence: Sequence[Evidence]) -> str:
    """The question with the index records above it."""
    if not evidence:
        return question
    records = "\n".join(f"- {e.render()}" for e in evidence)
    return f"Records from the repository's index (path:line kind name):\n{records}\n\nUsing the records, answer: {question}"


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
                          and Evidence.from_symbol(self.symbols[i]).name != name]
            rng.shuffle(candidates)
            chosen.extend(candidates[: count - len(chosen)])
            if len(chosen) >= count:
                break
        return [Evidence.from_symbol(self.symbols[i]) for i in chosen]
