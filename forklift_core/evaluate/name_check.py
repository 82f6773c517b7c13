"""The index check: a question about names the index does not hold is answered "there is no X", not generated.

A small model tuned on one repository cannot know which of the names it was never shown are absent: asked where
`fetch_all_cookies` is defined it names a real file. The index knows. Guarded and grounded answers consult it
already (paths, records); they consult it for the names asked about too, so no answer places an absent name.
"""

from __future__ import annotations

import difflib
import re
from typing import Sequence

from forklift_core.generate.families import absent_symbol
from forklift_core.generate.grounding import Vocabulary, looks_like_path, mentions

# Bare words that are code, not English: snake_case, dotted chains (`Session.send`), calls (`load()`).
# Bare CamelCase is left alone: product names (GitHub, JavaScript, macOS) would read as absent symbols.
_SNAKE = re.compile(r"(?<![\w./-])[A-Za-z_][A-Za-z0-9]*_[A-Za-z0-9_]*(?![\w/-])")
_DOTTED = re.compile(r"(?<![\w./-])[A-Za-z_]\w+(?:\.[A-Za-z_]\w+)+(?=\(\)|[\s?!,;:]|\.?$)")
_CALL = re.compile(r"(?<![\w./-])([A-Za-z_]\w{2,})\(\)")
_CODE_NAME = re.compile(r"[A-Za-z_]\w*(?:(?:\.|::)[A-Za-z_]\w*)*")  # flags, commands and globs are not names
_CLOSEST_CUTOFF = 0.75  # difflib ratio: `get_all_cookies` for `fetch_all_cookies`, not any `get_*`


def asked_names(question: str) -> list[str]:
    """The code names a question asks about: backticked spans, snake_case words, dotted chains, calls."""
    found = [m.strip().rstrip("()") for m in mentions(question)]
    prose = re.sub(r"`[^`]*`", " ", question)
    found += _SNAKE.findall(prose) + _DOTTED.findall(prose) + _CALL.findall(prose)
    # Paths are left to the path guard: an abstention naming an absent path would itself read as an invented one.
    return [name for name in dict.fromkeys(found)
            if len(name) > 1 and _CODE_NAME.fullmatch(name) and not looks_like_path(name)]


def absent_names(question: str, vocab: Vocabulary) -> list[str]:
    """The names the question asks about when every one of them is absent from the index (else nothing)."""
    names = asked_names(question)
    if not names or any(vocab.knows(name) for name in names):
        return []
    return names


def closest_name(name: str, vocab: Vocabulary) -> str:
    """The index's most similar name, or '' when none is close."""
    matches = difflib.get_close_matches(name.split(".")[-1], vocab.names, n=1, cutoff=_CLOSEST_CUTOFF)
    return matches[0] if matches else ""


def index_check(question: str, vocab: Vocabulary) -> str | None:
    """The abstention for a question about names the index lacks, or None when the question is for the model."""
    missing = absent_names(question, vocab)
    if not missing:
        return None
    answer, _ = absent_symbol.render({"label": missing[0], "near": closest_name(missing[0], vocab)})
    return answer


def index_checked(questions: Sequence[str], vocab: Vocabulary) -> dict[int, str]:
    """The questions (by position) that the index check answers, with their answers."""
    return {i: answer for i, question in enumerate(questions) if (answer := index_check(question, vocab))}
