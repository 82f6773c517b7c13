"""The index on disk: one Parquet table per record type, swapped in atomically, and queries over it."""

from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from forklift_core.errors import NotFoundError
from forklift_core.records import BuildFact, Doc, FileChange, FileRecord, Reference, Symbol, arrow_schema
from forklift_core.workspace import ProjectPaths

# Columns whose values are long or all different (a symbol's source, doc, signature, id): Parquet's dictionary for
# them is tried and dropped in every row group. Written plain (then compressed).
_FREE_TEXT = frozenset({"snippet", "doc", "signature", "id"})
# The one text column a reader filters row groups on (a re-ingest reads the rows of the files it keeps). Min/max
# statistics of the other text columns help no reader, and cost a third of the raw uses' writing.
_FILTERED_TEXT = frozenset({"path"})


def _parquet_options(schema: pa.Schema) -> dict[str, Any]:
    """How a table with this schema is written: zstd, with dictionaries for all but free text, and statistics for
    the numbers and the filtered text."""
    coded = [name for name in schema.names if name not in _FREE_TEXT]
    counted = [column.name for column in schema if column.name in _FILTERED_TEXT or not _is_text(column.type)]
    return {"compression": "zstd", "use_dictionary": coded, "write_statistics": counted}


def _is_text(kind: pa.DataType) -> bool:
    """A string column, plain or dictionary-encoded."""
    value = kind.value_type if pa.types.is_dictionary(kind) else kind
    return pa.types.is_string(value) or pa.types.is_large_string(value)


TABLES: dict[str, type] = {"files": FileRecord, "symbols": Symbol, "references": Reference, "build_facts": BuildFact,
                           "docs": Doc, "history": FileChange}


def to_table(records: Sequence[Any], record_type: type) -> pa.Table:
    """An Arrow table of records (columns kept even when there are no rows)."""
    schema = arrow_schema(record_type)
    # Column by column: far faster than asdict() per row on 100k records.
    return pa.Table.from_pydict({name: [getattr(r, name) for r in records] for name in schema.names}, schema=schema)


class IndexStaging:
    """A fresh folder the index tables are written into, swapped in whole by `commit` (readers never see half an
    index); dropped when the `with` block ends without a commit."""

    def __init__(self, paths: ProjectPaths) -> None:
        paths.root.mkdir(parents=True, exist_ok=True)
        self.paths = paths
        self.folder = Path(tempfile.mkdtemp(dir=paths.root, prefix=".index-"))
        self.written: set[str] = set()

    def __enter__(self) -> "IndexStaging":
        return self

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)  # a no-op after commit: the folder was renamed

    def write(self, name: str, given: Sequence[Any] | pa.Table) -> None:
        """One table, given as Arrow or as records of its type."""
        table = given if isinstance(given, pa.Table) else to_table(given, TABLES[name])
        pq.write_table(table, self.folder / f"{name}.parquet", **_parquet_options(table.schema))
        self.written.add(name)

    @contextmanager
    def writer(self, name: str, schema: pa.Schema | None = None) -> Iterator[Callable[[pa.Table | pa.RecordBatch], int]]:
        """A function writing one table piece by piece (never whole in memory) and returning each piece's rows;
        the schema is the table's record type's unless given (raw uses have no record type)."""
        schema = schema or arrow_schema(TABLES[name])
        with pq.ParquetWriter(self.folder / f"{name}.parquet", schema, **_parquet_options(schema)) as parquet:
            def write(piece: pa.Table | pa.RecordBatch) -> int:
                # As a table: it becomes row groups at once, where a record batch would be held back until a
                # million rows had gathered (a kernel's symbols with their source: 130 MiB held in memory).
                table = piece if isinstance(piece, pa.Table) else pa.Table.from_batches([piece])
                parquet.write_table(table.cast(schema) if table.schema != schema else table)
                return table.num_rows
            yield write
        self.written.add(name)

    def stream(self, name: str, batches: Iterable[pa.RecordBatch | pa.Table]) -> int:
        """One table written batch by batch; returns its rows."""
        with self.writer(name) as write:
            return sum(write(batch) for batch in batches)

    def commit(self) -> None:
        """Write the tables not given (empty), then swap the folder in for the index."""
        for name in TABLES.keys() - self.written:
            self.write(name, ())
        old = self.paths.root / ".index-old"
        shutil.rmtree(old, ignore_errors=True)
        if self.paths.index_dir.exists():
            self.paths.index_dir.rename(old)
        self.folder.rename(self.paths.index_dir)
        shutil.rmtree(old, ignore_errors=True)


class IndexReader:
    """Read-side queries over one project's index tables."""

    def __init__(self, paths: ProjectPaths) -> None:
        if not paths.table("symbols").is_file():
            raise NotFoundError(f"project {paths.name!r} has no index yet: run `forklift ingest` first")
        self.paths = paths
        self._cache: dict[str, pa.Table] = {}
        self._lower: dict[str, pa.ChunkedArray] = {}

    def table(self, name: str) -> pa.Table:
        """One table, read once."""
        if name not in self._cache:
            self._cache[name] = pq.read_table(self.paths.table(name))
        return self._cache[name]

    def symbols(self, name: str | None = None, path: str | None = None, kind: str | None = None,
                query: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Symbols by exact name, path (file or folder prefix), kind, or a case-insensitive substring."""
        table = self.table("symbols")
        mask = None
        conditions = []
        if name:
            conditions.append(pc.equal(table["name"], name))
        if path:
            folder = path.rstrip("/") + "/"
            conditions.append(pc.or_(pc.equal(table["path"], path), pc.starts_with(table["path"], folder)))
        if kind:
            conditions.append(pc.equal(table["kind"], kind))
        if query:
            needle = query.lower()
            conditions.append(pc.or_(pc.match_substring(self._lowered("name"), needle),
                                     pc.match_substring(self._lowered("path"), needle)))
        for condition in conditions:
            mask = condition if mask is None else pc.and_(mask, condition)
        selected = table.filter(mask) if mask is not None else table
        selected = selected.sort_by([("path", "ascending"), ("line", "ascending")])
        if limit is not None:
            selected = selected.slice(0, limit)
        return selected.to_pylist()

    def _lowered(self, column: str) -> pa.ChunkedArray:
        """A symbols column in lower case, computed once per reader (every search of a session reuses it)."""
        key = f"symbols.{column}.lower"
        if key not in self._lower:
            self._lower[key] = pc.utf8_lower(self.table("symbols")[column])
        return self._lower[key]

    def symbol(self, symbol_id: str) -> dict[str, Any] | None:
        """One symbol by id."""
        rows = self.table("symbols").filter(pc.equal(self.table("symbols")["id"], symbol_id)).to_pylist()
        return rows[0] if rows else None

    def references(self, name: str) -> dict[str, list[dict[str, Any]]]:
        """Callers (edges into symbols named `name`) and callees (edges out of them)."""
        refs = self.table("references")
        ids = set(self.table("symbols").filter(pc.equal(self.table("symbols")["name"], name))["id"].to_pylist())
        if not ids:
            raise NotFoundError(f"no symbol named {name!r} in the index")
        id_array = pa.array(sorted(ids))
        into = refs.filter(pc.or_(pc.is_in(refs["dst_id"], id_array),
                                  pc.and_(pc.equal(refs["dst_name"], name), pc.equal(refs["dst_id"], ""))))
        out_of = refs.filter(pc.is_in(refs["src_id"], id_array))
        order = [("path", "ascending"), ("line", "ascending")]
        return {"callers": into.sort_by(order).to_pylist(), "callees": out_of.sort_by(order).to_pylist()}

    def build_facts(self) -> list[dict[str, Any]]:
        """Every build fact."""
        return self.table("build_facts").to_pylist()

    def history(self) -> list[dict[str, Any]]:
        """Recent commits per file (empty without git history, or for an index written before history existed)."""
        return self.table("history").to_pylist() if self.paths.table("history").is_file() else []

    def docs(self) -> list[dict[str, Any]]:
        """READMEs and module docstrings (an index written before docs existed has none)."""
        return self.table("docs").to_pylist() if self.paths.table("docs").is_file() else []


_OPEN: dict[str, tuple[int, IndexReader]] = {}


def open_index(paths: ProjectPaths) -> IndexReader:
    """A reader shared by every request while the index on disk is the same one (a kernel tree's symbols take
    seconds to load and their lower-cased columns more; a search over them then takes milliseconds)."""
    reader = IndexReader(paths)  # raises NotFoundError before anything is cached
    stamp = paths.table("symbols").stat().st_mtime_ns
    cached = _OPEN.get(str(paths.index_dir))
    if cached is not None and cached[0] == stamp:
        return cached[1]
    _OPEN[str(paths.index_dir)] = (stamp, reader)
    return reader


def value_counts(column: pa.ChunkedArray | pa.Array) -> dict[str, int]:
    """Counts of each value of one column, most common first."""
    counts = pc.value_counts(column).to_pylist()
    return dict(sorted(((c["values"], c["counts"]) for c in counts), key=lambda item: (-item[1], item[0])))


def as_numpy(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """An Arrow column as a numpy array (copied when it must be: nulls, booleans, several chunks)."""
    return column.to_numpy(zero_copy_only=False)


def dictionary_codes(column: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """(each row's code, the distinct values the codes point into) of a string or dictionary-encoded column;
    for a single array the distinct values come in the order they are first met."""
    encoded = pc.dictionary_encode(column)
    if isinstance(encoded, pa.Array):
        return as_numpy(encoded.indices).astype(np.int64), encoded.dictionary
    if not encoded.num_chunks:
        return np.zeros(0, np.int64), pa.array([], pa.string())
    encoded = encoded.unify_dictionaries()
    indices = np.concatenate([as_numpy(chunk.indices) for chunk in encoded.chunks])
    return indices.astype(np.int64), encoded.chunks[0].dictionary
