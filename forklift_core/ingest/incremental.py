"""Re-ingest of a project already indexed: only the files whose content hash changed are read again.

The walk hashes every file (it reads them anyway to vet them); against the previous index's `files` table that
gives the files added, changed and removed. Symbols and name uses (the raw, unresolved references kept in
`raw_uses.parquet`) of untouched files are carried over from the previous index; the touched files go through
ctags and tree-sitter again; references are resolved over the whole, since a changed definition can change what
an untouched file's call means. A tree whose files are all unchanged keeps its index tables as they are.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from forklift_core.config import IngestConfig
from forklift_core.ingest.treesitter import RawReference
from forklift_core.records import SYMBOL_OUTLINE, FileRecord, Symbol, arrow_schema, symbol_outline
from forklift_core.workspace import ProjectPaths

RAW_USES = "raw_uses"  # the index table of name uses before resolution
# A file's path and the use's kind repeat on every row: dictionary-encoded, a kernel's 3 million uses take half.
USES_SCHEMA = pa.schema([("path", pa.dictionary(pa.int32(), pa.string())), ("line", pa.int64()),
                         ("name", pa.string()), ("kind", pa.dictionary(pa.int32(), pa.string()))])
# Settings that change what is extracted from a file (the extractor is compared as resolved, ctags or tree-sitter).
_SAME_RUN = ("references", "c_references", "python_references", "snippet_max_lines", "snippet_max_chars", "doc_max_chars")


@dataclass
class PreviousIndex:
    """What the last ingest left: its manifest and file hashes; its tables are read when (and as far as) a
    re-ingest needs them, only the rows of the files it keeps or re-reads."""

    manifest: dict[str, Any]
    hashes: dict[str, str]
    paths: ProjectPaths

    def read(self, table: str, touched: set[str], inside: bool, columns: Sequence[str] | None = None) -> pa.Table:
        """The rows of a previous table whose file is (inside=True) or is not one of the touched files."""
        picked = pc.field("path").isin(sorted(touched))
        return pq.read_table(self.paths.table(table), columns=list(columns) if columns else None,
                             filters=picked if inside else ~picked)


@dataclass
class FileDelta:
    """Which files differ from the previous index."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def touched(self) -> set[str]:
        """Every path whose symbols and uses must be read again or dropped."""
        return set(self.added) | set(self.changed) | set(self.removed)

    def counts(self) -> dict[str, int]:
        """How many files were added, changed and removed (the report's first figures)."""
        return {"files_added": len(self.added), "files_changed": len(self.changed), "files_removed": len(self.removed)}


def load_previous(paths: ProjectPaths, config: IngestConfig, extractor: str,
                  c_references: str = "") -> PreviousIndex | None:
    """The previous index when it can be built on: same extractor and extraction settings, C references from the
    same source as this run's (`c_references`: "auto" resolves by what the machine has), uses kept."""
    if not (paths.manifest.is_file() and paths.table(RAW_USES).is_file() and paths.table("files").is_file()):
        return None
    from forklift_core import __version__

    manifest = paths.read_manifest()
    before = manifest.get("config", {})
    if manifest.get("tools", {}).get("forklift") != __version__:
        return None  # another ForkLift may extract differently
    now = config.to_dict()
    if manifest.get("extractor") != extractor or any(before.get(k) != now.get(k) for k in _SAME_RUN):
        return None
    if manifest.get("c_references_from") not in ("", None, c_references):
        return None  # its C files' uses came from another source: mixing the two would not match a fresh ingest
    files = pq.read_table(paths.table("files"), columns=["path", "sha1"])
    return PreviousIndex(manifest, dict(zip(files.column("path").to_pylist(), files.column("sha1").to_pylist())), paths)


def file_delta(previous: dict[str, str], files: Sequence[FileRecord]) -> FileDelta:
    """Files added, changed (other content hash) and removed since the previous index."""
    delta = FileDelta()
    for record in files:
        before = previous.get(record.path)
        if before is None:
            delta.added.append(record.path)
        elif before != record.sha1:
            delta.changed.append(record.path)
    current = {f.path for f in files}
    delta.removed = sorted(p for p in previous if p not in current)
    return delta


def _in_touched(table: pa.Table, touched: set[str]) -> pa.ChunkedArray:
    """Which rows of a table (by its `path`) belong to a touched file."""
    return pc.is_in(table.column("path"), value_set=pa.array(sorted(touched), pa.string()))


def carried_symbols(previous: PreviousIndex, touched: set[str]) -> pa.Table:
    """The outline of the previous symbols of every file that did not change."""
    return symbol_outline(previous.read("symbols", touched, inside=False, columns=SYMBOL_OUTLINE))


def carried_symbol_rows(previous: PreviousIndex, touched: set[str]) -> Iterator[pa.Table]:
    """The whole previous symbols of every file that did not change, read a row group at a time."""
    schema = arrow_schema(Symbol)
    source = pq.ParquetFile(previous.paths.table("symbols"))
    for group in range(source.num_row_groups):
        rows = source.read_row_group(group)
        yield rows.filter(pc.invert(_in_touched(rows, touched))).cast(schema)


def carried_uses(previous: PreviousIndex, touched: set[str]) -> pa.Table:
    """The previous name uses of every file that did not change."""
    return previous.read(RAW_USES, touched, inside=False).cast(USES_SCHEMA)


def uses_table(uses: Sequence[RawReference]) -> pa.Table:
    """Name uses as the `raw_uses` table."""
    columns = list(zip(*uses)) if uses else [[] for _ in RawReference._fields]
    return pa.table([pa.array(column, field.type) for column, field in zip(columns, USES_SCHEMA)], schema=USES_SCHEMA)


def symbol_changes(previous: PreviousIndex, touched: set[str], new_symbols: pa.Table,
                   sample: int = 20) -> dict[str, Any]:
    """Symbols added, removed and moved (same name, kind and scope at another line or file) in the touched files;
    `new_symbols` are those of the files read again."""
    def located(rows: Any) -> dict[tuple[str, str, str], list[tuple[str, int]]]:
        found: dict[tuple[str, str, str], list[tuple[str, int]]] = defaultdict(list)
        for name, kind, scope, path, line in rows:
            found[(name, kind, scope)].append((path, line))
        return found

    def rows(table: pa.Table) -> Any:
        return zip(*(table.column(c).to_pylist() for c in ("name", "kind", "scope", "path", "line")))

    # Both sides hold only touched files: the previous rows are read so, the new symbols are the re-read files'.
    touched_before = previous.read("symbols", touched, inside=True, columns=("name", "kind", "scope", "path", "line"))
    old, new = located(rows(touched_before)), located(rows(new_symbols))
    added, removed, moved = [], [], []
    for key in new.keys() | old.keys():
        before, after = sorted(old.get(key, [])), sorted(new.get(key, []))
        paired = min(len(before), len(after))
        label = ".".join(p for p in (key[2], key[0]) if p)
        moved += [f"{label} ({b[0]}:{b[1]} → {a[0]}:{a[1]})" for b, a in zip(before[:paired], after[:paired]) if b != a]
        added += [f"{label} ({a[0]}:{a[1]})" for a in after[paired:]]
        removed += [f"{label} ({b[0]}:{b[1]})" for b in before[paired:]]
    return {"symbols_added": len(added), "symbols_removed": len(removed), "symbols_moved": len(moved),
            "examples": {"added": sorted(added)[:sample], "removed": sorted(removed)[:sample],
                         "moved": sorted(moved)[:sample]}}


def change_line(summary: dict[str, Any]) -> str:
    """One line saying what a re-ingest found ('' for a first ingest)."""
    changes = summary.get("changes")
    if not summary.get("reingest") or not changes:
        return ""
    if not (changes["files_added"] or changes["files_changed"] or changes["files_removed"]):
        return "re-ingest: no file changed since the last ingest; the index is as it was"
    examples = changes.get("examples", {})
    sample = "; ".join(f"{what} {items[0]}" for what, items in examples.items() if items)
    return (f"re-ingest: {changes['files_changed']} files changed, {changes['files_added']} added, "
            f"{changes['files_removed']} removed (only those read again); symbols {changes['symbols_added']} added, "
            f"{changes['symbols_removed']} removed, {changes['symbols_moved']} moved" + (f" — e.g. {sample}" if sample else ""))
