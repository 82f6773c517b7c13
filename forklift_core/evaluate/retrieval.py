"""Grounded answers: the index records a question names (exact lookup), then the nearest by embedding."""

from __future__ import annotations

import re
from typing import Any, Sequence

from forklift_core.evaluate.vectors import symbol_text, symbol_vectors
from forklift_core.evidence import Evidence, qualified_name
from forklift_core.generate.grounding import mentions
from forklift_core.workspace import ProjectPaths

_IDENTIFIER = re.compile(r"[A-Za-z_]\w{2,}")


class Retriever:
    """Finds evidence for a question among an index's symbols."""

    def __init__(self, symbols: Sequence[dict[str, Any]], embedder: Any | None = None,
                 paths: ProjectPaths | None = None) -> None:
        """`paths`: the project whose stored vectors to use (and extend); without it they are computed here."""
        self.symbols = list(symbols)
        self.paths = paths
        self.by_name: dict[str, list[int]] = {}
        for i, s in enumerate(self.symbols):
            self.by_name.setdefault(s["name"], []).append(i)
            if s["scope"]:  # `Store.read` finds that method before every other `read`
                self.by_name.setdefault(qualified_name(s), []).append(i)
        self.embedder = embedder
        self._vectors: Any = None

    def _symbol_vectors(self) -> Any:
        if self._vectors is None:
            if self.paths is not None:
                self._vectors = symbol_vectors(self.paths, self.symbols, self.embedder)
            else:
                self._vectors = self.embedder.embed([symbol_text(s) for s in self.symbols])
        return self._vectors

    def retrieve(self, questions: Sequence[str], k: int) -> list[list[Evidence]]:
        """Up to k records per question: symbols the question names first, then the nearest by embedding."""
        picks: list[list[int]] = []
        for question in questions:
            backticked = [m.replace("::", ".") for m in mentions(question)]
            named = backticked + [m.split(".")[-1] for m in backticked] + _IDENTIFIER.findall(question)
            chosen: list[int] = []
            for name in dict.fromkeys(named):
                for index in self.by_name.get(name, []):
                    if index not in chosen and len(chosen) < k:
                        chosen.append(index)
            picks.append(chosen)
        if self.embedder is not None and self.symbols and any(len(p) < k for p in picks):
            vectors = self._symbol_vectors()
            scores = self.embedder.embed(list(questions)) @ vectors.T
            for row, chosen in enumerate(picks):
                for index in scores[row].argsort()[::-1]:
                    if len(chosen) >= k:
                        break
                    if int(index) not in chosen:
                        chosen.append(int(index))
        return [[self._evidence(i) for i in chosen] for chosen in picks]

    def _evidence(self, index: int) -> Evidence:
        return Evidence.from_symbol(self.symbols[index])

