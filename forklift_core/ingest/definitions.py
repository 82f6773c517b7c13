"""Definitions as extractors emit them: one record type for tree-sitter, one Arrow layout for both extractors."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Callable, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from forklift_core.ingest.languages import canonical_kind
from forklift_core.ingest.tables import dictionary_codes


@dataclass
class Definition:
    """One definition before enrichment, as tree-sitter reports it (ctags' tags go straight to columns)."""

    name: str
    kind: str
    language: str
    path: str
    line: int
    end_line: int  # 0 when the extractor did not know it
    scope: str = ""
    scope_kind: str = ""
    signature: str = ""
    access: str = ""
    extractor: str = "ctags"

    def __post_init__(self) -> None:
        self.kind = canonical_kind(self.kind, self.scope_kind or None)


# The columns every extractor's definitions arrive in; enrichment turns them into the symbols table.
DEFINITION_SCHEMA = pa.schema([(f.name, pa.int64() if f.name in ("line", "end_line") else pa.string())
                               for f in fields(Definition)])


def definitions_table(defs: Sequence[Definition]) -> pa.Table:
    """Definition records as columns."""
    return pa.table({name: [getattr(d, name) for d in defs] for name in DEFINITION_SCHEMA.names},
                    schema=DEFINITION_SCHEMA)


def map_distinct(values: pa.Array | pa.ChunkedArray, fn: Callable[[str], str]) -> pa.Array:
    """`fn` of each value, called once per distinct value (a chunk has thousands of rows and a few dozen kinds)."""
    codes, distinct = dictionary_codes(values)
    return pa.array([fn(v) for v in distinct.to_pylist()], pa.string()).take(pa.array(codes))


def canonical_kinds(kinds: pa.Array, scope_kinds: pa.Array) -> pa.Array:
    """`canonical_kind` of each (kind, scope kind) pair, as `Definition` applies it to one record."""
    return map_distinct(pc.binary_join_element_wise(kinds, scope_kinds, "\x1f"), _canonical_pair)


def _canonical_pair(pair: str) -> str:
    kind, scope_kind = pair.split("\x1f", 1)
    return canonical_kind(kind, scope_kind or None)
