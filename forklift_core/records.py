"""The flat records every stage reads and writes (frozen dataclasses, one Parquet table each)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any, get_type_hints

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def symbol_ids(paths: pa.ChunkedArray, lines: pa.ChunkedArray, names: pa.ChunkedArray,
               kinds: pa.ChunkedArray) -> pa.Array:
    """Stable ids for definitions, one per row: the first 16 hex digits of SHA-1 over `path:line:name:kind` (the
    same code ingested twice gets the same ids). The keys are joined by Arrow; only the hashing runs per row."""
    keys = pc.binary_join_element_wise(paths, pc.cast(lines, pa.string()), names, kinds, ":")
    keys = (keys.combine_chunks() if isinstance(keys, pa.ChunkedArray) else keys).cast(pa.large_binary())
    from forklift_core.ingest.native import native, string_buffers  # here: the native glue imports the records

    if native is None:
        return pa.array([hashlib.sha1(key).hexdigest()[:16] for key in keys.to_pylist()], pa.string())
    # In native code: the per-key hashlib call was most of the ids' time, not the hashing.
    digits = native.short_sha1(*string_buffers(keys))
    ends = np.arange(0, 16 * len(keys) + 1, 16, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), len(keys), [None, pa.py_buffer(ends), pa.py_buffer(digits)])


@dataclass(frozen=True)
class FileRecord:
    """One file kept by the walk."""

    path: str  # relative to the repo root, POSIX separators
    category: str  # code | doc | build | other
    language: str
    size: int
    lines: int
    sha1: str


@dataclass(frozen=True)
class Symbol:
    """One definition, from ctags or tree-sitter, with its evidence."""

    id: str
    name: str
    kind: str
    language: str
    path: str
    line: int
    end_line: int
    scope: str
    scope_kind: str
    signature: str
    access: str
    snippet: str
    doc: str
    extractor: str  # ctags | tree-sitter


# A symbol's columns without its text (snippet, doc, signature): what resolution and the ingest summary need, so a
# kernel tree's 1.4 million symbols are held in memory without their 400 MB of source.
SYMBOL_OUTLINE = ("id", "name", "kind", "language", "path", "line", "end_line", "scope")
_REPEATED = ("kind", "language", "path")  # few distinct values over many rows: dictionary-encoded in the outline


def symbol_outline(symbols: pa.Table) -> pa.Table:
    """The SYMBOL_OUTLINE columns of a symbols table, the repetitive ones dictionary-encoded."""
    columns = {name: symbols[name] for name in SYMBOL_OUTLINE}
    for name in _REPEATED:
        columns[name] = pc.dictionary_encode(columns[name].cast(pa.string()))
    return pa.table(columns)


@dataclass(frozen=True)
class Reference:
    """An edge: the symbol at src uses (calls, or names the type of) dst at path:line."""

    src_id: str  # enclosing definition ('' at file level)
    src_name: str
    dst_id: str  # resolved definition ('' when ambiguous or external)
    dst_name: str
    kind: str  # call | use
    path: str
    line: int
    candidates: int  # how many definitions carry dst_name


@dataclass(frozen=True)
class BuildFact:
    """How to build, test, install or run the project, with where it was read."""

    action: str  # build | test | install | run | lint | other
    command: str
    tool: str  # make | cmake | pip | npm | cargo | go | readme ...
    path: str
    line: int
    detail: str


@dataclass(frozen=True)
class Doc:
    """Prose that says what a folder or module is for: a README's opening or a module docstring."""

    path: str
    directory: str  # '' for the repository root
    kind: str  # readme | module_docstring
    title: str
    text: str


@dataclass(frozen=True)
class FileChange:
    """One recent commit that touched a file (rank 0 is the newest)."""

    path: str
    commit: str
    date: str  # ISO 8601, author date
    author: str
    subject: str
    rank: int


@dataclass(frozen=True)
class Fact:
    """One checkable statement with its evidence; every pair about it links back here."""

    id: str
    family: str
    subject: str  # what the question is about: a qualified symbol name, a file, a folder or an action
    symbol_id: str
    path: str
    line: int
    end_line: int
    evidence: str  # the snippet or prose the fact was read from
    data: dict[str, Any]  # the family's fields (rendered into answers, checked by graders)
    needs_review: bool = False  # nothing in the index grounds the answer's wording (e.g. no docstring)


@dataclass(frozen=True)
class QAPair:
    """A supervised pair: a question and its grounded answer."""

    id: str
    fact_id: str
    family: str
    template_id: str
    question: str
    answer: str  # full grounded sentence (the SFT target)
    concise: str  # the short preferred form
    split: str = "train"
    test_kind: str = ""  # unseen_phrasing | held_out_fact (test split only)
    needs_review: bool = False
    flags: str = ""  # why a reviewer should look (e.g. ungrounded teacher output)


@dataclass(frozen=True)
class PreferencePair:
    """A DPO pair: the grounded answer is chosen, a plausible wrong one rejected."""

    id: str
    fact_id: str
    family: str
    template_id: str
    prompt: str
    chosen: str
    rejected: str
    negative_kind: str  # how the rejected answer was made (line_shift, same_name_elsewhere, on_policy, ...)
    split: str = "train"
    test_kind: str = ""
    needs_review: bool = False
    flags: str = ""


def stable_id(*parts: object) -> str:
    """A short deterministic id from its parts (same inputs, same id, across runs)."""
    return hashlib.sha1("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:16]


_ARROW_TYPES = {str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_()}


@lru_cache(maxsize=None)
def arrow_schema(record_type: type) -> pa.Schema:
    """The Parquet schema of a record dataclass, so empty tables keep their columns (made once per type: reading
    the type hints took a millisecond, and every extraction task and resolved batch asks)."""
    hints = get_type_hints(record_type)
    return pa.schema([(f.name, _ARROW_TYPES[hints[f.name]]) for f in fields(record_type)])
