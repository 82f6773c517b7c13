"""Hallucination-guarded decoding: a repository path written inside backticks must be a path the index holds.

While the model writes a backticked span that is a path — it holds a '/' or ends in a source-file extension —
every next token is checked against the index's paths and file names (a sorted list answers "is this a prefix of
some path" with one bisect): tokens that would leave every path are masked, and the span can only close on a whole
path or file name, optionally with `:line`. Other text, and backticked names that are not paths, are left alone.
"""

from __future__ import annotations

import posixpath
import re
from bisect import bisect_left
from functools import lru_cache
from typing import Any, Iterable, Sequence

from forklift_core.generate.grounding import looks_like_path

_LINE_SUFFIX = re.compile(r":\d*")
TOP_CANDIDATES = 64  # tokens checked first; the whole vocabulary only when none of them fits


class PathIndex:
    """The index's file paths, sorted for prefix queries."""

    def __init__(self, paths: Iterable[str]) -> None:
        paths = set(paths)
        # A bare file name is a fair way to name a file too (the grounding check accepts it as well).
        self.sorted = sorted(paths | {posixpath.basename(p) for p in paths})
        self.known = set(self.sorted)

    def is_prefix(self, text: str) -> bool:
        """True when some path starts with text."""
        at = bisect_left(self.sorted, text)
        return at < len(self.sorted) and self.sorted[at].startswith(text)

    def can_continue(self, span: str) -> bool:
        """True when span can still become a path (or a path with ':' and line digits)."""
        path, colon, rest = span.partition(":")
        if colon:
            return path in self.known and _LINE_SUFFIX.fullmatch(":" + rest) is not None
        return self.is_prefix(span)

    def can_close(self, span: str) -> bool:
        """True when span is a whole path, optionally followed by ':line'."""
        path, colon, rest = span.partition(":")
        return path in self.known and (not colon or rest.isdigit())


def open_span(text: str) -> tuple[str, str] | None:
    """(text before the open backtick, the span after it) when text ends inside a backticked span."""
    if text.count("`") % 2 == 0:
        return None
    cut = text.rfind("`")
    return text[:cut], text[cut + 1:]


def guarded(span: str, candidate: str) -> bool:
    """Whether the span, with the candidate token, is a path being written (so the guard applies)."""
    text = span + candidate.split("`")[0]
    return "/" in text or looks_like_path(text.split(":")[0])


def token_allowed(index: PathIndex, span: str, token_text: str) -> bool:
    """Whether appending a token keeps a guarded path span on a path of the index."""
    if not guarded(span, token_text):
        return True
    inside, tick, _ = token_text.partition("`")
    extended = span + inside
    if tick:
        return index.can_close(extended)
    if "\n" in inside:
        return False
    return index.can_continue(extended)


@lru_cache(maxsize=4)
def _token_texts(tokenizer: Any) -> tuple[str, ...]:
    return tuple(tokenizer.decode([i]) for i in range(len(tokenizer)))


class PathGuardProcessor:
    """A transformers LogitsProcessor that holds backticked paths to the index (batched, greedy or sampled)."""

    def __init__(self, index: PathIndex, tokenizer: Any, prompt_length: int) -> None:
        self.index = index
        self.tokenizer = tokenizer
        self.prompt_length = prompt_length
        self.texts = _token_texts(tokenizer)
        self.interventions = 0  # how often a token was masked: reported beside the guarded answers

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        for row in range(input_ids.shape[0]):
            written = self.tokenizer.decode(input_ids[row, self.prompt_length:], skip_special_tokens=True)
            opened = open_span(written)
            if opened is None:
                continue
            allowed = self._allowed(opened[1], scores[row])
            if allowed is None:
                continue
            mask = torch.full_like(scores[row], float("-inf"))
            mask[allowed] = 0
            scores[row] = scores[row] + mask
        return scores

    def _allowed(self, span: str, row_scores: Any) -> list[int] | None:
        """Token ids that keep the span on an index path; None when the best token is already fine."""
        top = row_scores.topk(min(TOP_CANDIDATES, row_scores.shape[-1])).indices.tolist()
        if token_allowed(self.index, span, self.texts[top[0]]):
            return None
        self.interventions += 1
        allowed = [t for t in top if token_allowed(self.index, span, self.texts[t])]
        if not allowed:
            allowed = [t for t, text in enumerate(self.texts) if text and token_allowed(self.index, span, text)]
        return allowed or None


def guard_paths(index: PathIndex, tokenizer: Any, prompt_length: int) -> Sequence[Any]:
    """The logits processors for one generate call (a list, as transformers expects)."""
    from transformers import LogitsProcessorList

    return LogitsProcessorList([PathGuardProcessor(index, tokenizer, prompt_length)])
