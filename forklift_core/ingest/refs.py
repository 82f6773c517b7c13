"""Resolve raw name uses into edges between symbols: the enclosing caller and the definition used."""

from __future__ import annotations

import posixpath
from typing import Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from forklift_core.ingest.languages import TYPE_KINDS, language_for
from forklift_core.ingest.native import int64_columns, native, string_buffers, string_hashes
from forklift_core.ingest.tables import as_numpy, dictionary_codes
from forklift_core.records import FileRecord, Reference, arrow_schema

CALLABLE_KINDS = frozenset({"function", "method", "macro", "class", "struct"})
# A macro is a caller too: the calls written in its body (which cscope sees) are its own.
_CALLER_KINDS = frozenset({"function", "method", "macro", "class", "struct", "impl", "interface", "trait", "namespace",
                           "module"})


# Languages whose code can call each other's definitions by name; any other pair never links.
_LINKED_LANGUAGES = {"C": "c-family", "C++": "c-family", "JavaScript": "js-family", "TypeScript": "js-family",
                     "TSX": "js-family"}


def language_family(language: str) -> str:
    """The group of languages a name can resolve across (C with C++, JavaScript with TypeScript)."""
    return _LINKED_LANGUAGES.get(language, language)


def _pandas():  # type: ignore[no-untyped-def]
    """pandas, imported only for keys too wide for one integer (rare): an ingest never loads it otherwise, which
    keeps 35 MiB out of every ingest's memory."""
    import pandas

    return pandas


def _parents(starts: np.ndarray, ends: np.ndarray, files: np.ndarray) -> np.ndarray:
    """For each caller span (sorted by file, then start, end, id): the latest earlier span of its file that
    contains its start, or -1. Walking back through parents skips every span that cannot contain it."""
    if native is not None:  # the same loop in native code: a kernel's 600,000 spans in 10 ms, not 1.2 s
        return np.frombuffer(native.span_parents(*int64_columns(starts, ends, files)), dtype=np.int64).copy()
    parent = np.full(len(starts), -1, dtype=np.int64)
    for i in range(1, len(starts)):
        j = i - 1
        while j >= 0 and files[j] == files[i] and ends[j] < starts[i]:
            j = parent[j]
        parent[i] = j if j >= 0 and files[j] == files[i] else -1
    return parent


def search_sorted(table: np.ndarray, keys: np.ndarray, side: str = "left") -> np.ndarray:
    """np.searchsorted(table, keys, side), the keys searched in their own sorted order: the searches then run along
    the table rather than jump about it, and a batch's 125,000 keys in a kernel's 600,000 names take a third of the
    time, sorting included."""
    if len(keys) < 64:
        return np.searchsorted(table, keys, side=side)  # type: ignore[call-overload]
    order = np.argsort(keys)
    found = np.empty(len(keys), dtype=np.int64)
    found[order] = np.searchsorted(table, keys[order], side=side)  # type: ignore[call-overload]
    return found


def _found_at(table: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(where each key is or would go in the sorted, non-empty `table`, clamped to its last row; whether it is
    there)."""
    at = np.minimum(search_sorted(table, keys), len(table) - 1)
    return at, table[at] == keys


def _codes(column: pa.ChunkedArray | pa.Array, dictionary: pa.Array) -> np.ndarray:
    """Each value's position in `dictionary` (-1 where it is not in it).

    The column's distinct values are looked up in reverse (each dictionary entry in a hash of the column's few
    distinct values): a batch of uses then never builds a hash of a kernel's 600,000 names.
    """
    indices, distinct = dictionary_codes(column)
    where = as_numpy(pc.fill_null(pc.index_in(dictionary, value_set=distinct), -1))
    found = np.flatnonzero(where >= 0)
    inverse = np.full(len(distinct) + 1, -1, dtype=np.int64)
    inverse[where[found]] = found
    return inverse[indices]


class _NameIndex:
    """Each name's position among the index's distinct names, looked up by a 64-bit hash of its bytes (the names'
    hashes made and sorted once) and confirmed by its text.

    A batch of uses then costs only its own distinct names: Arrow's set lookup builds a hash table of its value set
    on every call, and looking the index's 600,000 names up in each batch's was a third of a kernel's resolution.
    A name whose hash matches a different name's (a 64-bit collision) is looked up the slow way, so none is lost;
    without the native helpers every batch goes the slow way.
    """

    def __init__(self, names: pa.Array) -> None:
        self.names = names
        hashes = string_hashes(names) if native is not None else np.zeros(0, np.uint64)
        self.order = np.argsort(hashes, kind="stable").astype(np.int32)  # half the memory: fewer than 2**31 names
        self.sorted = hashes[self.order]

    def codes(self, values: pa.Array) -> np.ndarray:
        """Each value's position in the names (-1 where it is none of them)."""
        if native is None or not len(self.sorted):
            return _codes(values, self.names)
        hashes = string_hashes(values)
        at, hit = _found_at(self.sorted, hashes)
        found = np.where(hit, self.order[at], 0)
        same = hit & as_numpy(pc.equal(self.names.take(pa.array(found)), values))
        codes = np.where(same, found, -1)
        collided = np.flatnonzero(hit & ~same)
        if len(collided):  # the hash matched another name (or the first of several names sharing it)
            codes[collided] = _codes(values.take(pa.array(collided)), self.names)
        return codes


def _name_codes(column: pa.ChunkedArray | pa.Array, names: _NameIndex) -> np.ndarray:
    """Each value's position among the index's names (-1 where it is none of them), its distinct values looked up
    once."""
    indices, distinct = dictionary_codes(column)
    return names.codes(_text(distinct))[indices] if len(indices) else np.zeros(0, np.int64)


class _Groups:
    """Candidate rows grouped by an integer key: for any key, how many rows carry it and the first of them."""

    def __init__(self, keys: np.ndarray, rows: np.ndarray) -> None:
        self.unique, first, self.counts = np.unique(keys, return_index=True, return_counts=True)
        self.first_row = rows[first]

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(count, first row or -1) for each key."""
        if not len(self.unique):
            return np.zeros(len(keys), dtype=np.int64), np.full(len(keys), -1, dtype=np.int64)
        at, hit = _found_at(self.unique, keys)
        return np.where(hit, self.counts[at], 0), np.where(hit, self.first_row[at], -1)


class _FixedWidthText:
    """A column of strings that all have the same length (symbol ids), its values picked by numpy as rows of a
    byte matrix: Arrow's take of 2.8 million ids, with their offsets, cost three times as much."""

    def __init__(self, column: pa.ChunkedArray | pa.Array, width: int) -> None:
        self.column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        data, offsets = string_buffers(self.column) if len(self.column) else (b"", np.zeros(1, np.int64))
        fixed = bool(len(self.column)) and self.column.null_count == 0 and \
            bool(np.array_equal(offsets - offsets[0], np.arange(len(offsets), dtype=np.int64) * width))
        self.width = width
        self.rows = np.frombuffer(data, np.uint8)[offsets[0]:offsets[-1]].reshape(-1, width) if fixed else None

    def sort_keys(self, rows: np.ndarray) -> tuple[np.ndarray, ...]:
        """numpy.lexsort keys (least significant first) that order the values at `rows` as their text sorts: the
        bytes taken as big-endian 64-bit words (no string comparison), else Arrow's rank of the strings."""
        if self.rows is None or self.width % 8:
            return (pc.rank(self.column.take(pa.array(rows)), sort_keys="ascending", tiebreaker="first").to_numpy(),)
        words = np.ascontiguousarray(self.rows[rows]).view(">u8")  # one row of width // 8 words per value
        return tuple(words[:, column] for column in reversed(range(self.width // 8)))

    def take(self, rows: np.ndarray) -> pa.Array:
        """Values at `rows`, '' where the row is -1."""
        if self.rows is None:
            return _take_text(self.column, rows)
        valid = rows >= 0
        offsets = np.zeros(len(rows) + 1, dtype=np.int32)
        np.cumsum(valid * self.width, out=offsets[1:])
        data = self.rows[rows[valid]]
        return pa.Array.from_buffers(pa.string(), len(rows), [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def _take_text(column: pa.ChunkedArray | pa.Array, rows: np.ndarray) -> pa.Array:
    """Values at `rows`, '' where the row is -1."""
    picked = pc.take(column, pa.array(np.maximum(rows, 0), mask=rows < 0))
    return pc.fill_null(picked, "")


class Resolver:
    """Resolves name uses into edges against one index's symbols, a batch of uses at a time.

    A use resolves among the definitions carrying its name that it could mean (callables for a call, types for a
    use, within its language family): the only one, else the only one in its file, else in its folder, else none
    (''). Its source is the innermost caller span around it. Done on whole columns of integer codes (names, paths,
    families): a kernel tree has millions of uses, and no string is compared after the codes are made. Everything
    about the symbols is worked out once; a batch costs only its own uses, so memory stays flat however many there
    are. A batch must hold all the uses of each of its files (a repeat of a use is dropped within a file).
    """

    def __init__(self, symbols: pa.Table, files: Sequence[FileRecord]) -> None:
        """`symbols` needs the SYMBOL_OUTLINE columns; `files` are every file a use can be in."""
        # All a resolved edge needs of its ends (ids are 16 hex digits: records.symbol_ids).
        # The names as one array: a take from one is far cheaper than from a task's chunk each.
        self.ids, self.symbol_names = _FixedWidthText(symbols["id"], 16), symbols["name"].combine_chunks()
        # Encoding a column yields its distinct values and each row's code in one pass.
        def_name, names = dictionary_codes(self.symbol_names)
        self.names = _NameIndex(names)
        # Every symbol is in a walked file; their paths are added all the same, in case one is not.
        self.paths = pc.unique(pa.chunked_array([pa.array([f.path for f in files], pa.string()),
                                                 _distinct(symbols["path"])], pa.string()))
        def_path = _codes(symbols["path"], self.paths)
        path_list = self.paths.to_pylist()
        self.dir_of_path = np.unique(np.array([posixpath.dirname(p) for p in path_list], dtype=str),
                                     return_inverse=True)[1].astype(np.int64)
        family_index: dict[str, int] = {}  # language family -> code, made as they are met

        def family_code(language: str) -> int:
            return family_index.setdefault(language_family(language), len(family_index))

        self.family_of_path = np.array([family_code(spec.name if (spec := language_for(p)) else "")
                                        for p in path_list], dtype=np.int64)
        languages = _distinct(symbols["language"])  # a family per distinct language, spread to symbols by code
        def_family = np.array([family_code(lang) for lang in languages.to_pylist()], dtype=np.int64)[
            _codes(symbols["language"], languages)]
        self.n_families, self.n_paths = len(family_index) + 1, len(path_list) + 1
        self.n_dirs = int(self.dir_of_path.max(initial=0)) + 2
        def_line, def_end = symbols["line"].to_numpy(), symbols["end_line"].to_numpy()
        kinds = symbols["kind"]

        # Candidates per (name, call|use, family), and per file and folder for the names several carry.
        callable_rows = np.flatnonzero(as_numpy(pc.is_in(kinds, pa.array(sorted(CALLABLE_KINDS)))))
        type_rows = np.flatnonzero(as_numpy(pc.is_in(kinds, pa.array(sorted(TYPE_KINDS)))))
        cand = np.concatenate([callable_rows, type_rows])
        cand_group = np.concatenate([np.zeros(len(callable_rows), np.int64), np.ones(len(type_rows), np.int64)])
        cand_key = (def_name[cand] * 2 + cand_group) * self.n_families + def_family[cand]
        self.by_name = _Groups(cand_key, cand)
        self.by_file = _Groups(cand_key * self.n_paths + def_path[cand], cand)
        self.by_dir = _Groups(cand_key * self.n_dirs + self.dir_of_path[def_path[cand]], cand)
        # Definition sites as one integer per (path, line, name), sorted for lookups, when the ranges fit in one.
        self.line_span = max(int(def_line.max(initial=0)), max((f.lines for f in files), default=0)) + 2
        self.site_keys = np.sort(self._site_key(def_path, def_line, def_name)) if self._keys_fit() else None
        self.sites = None if self.site_keys is not None else _pandas().DataFrame(
            {"path": def_path, "line": def_line, "name": def_name}).drop_duplicates().assign(site=True)

        # Caller spans ordered by file, start, end, id; each knows the span it sits in (its parent).
        spans = np.flatnonzero(as_numpy(pc.is_in(kinds, pa.array(sorted(_CALLER_KINDS)))))
        spans = spans[np.lexsort((*self.ids.sort_keys(spans), def_end[spans], def_line[spans], def_path[spans]))]
        self.spans, self.span_path, self.span_end = spans, def_path[spans], def_end[spans]
        self.parent = _parents(def_line[spans], self.span_end, self.span_path)
        self.position = (self.span_path << 32) + def_line[spans]  # sorted: by path code, then line

    def resolve(self, raw: pa.Table) -> tuple[pa.Table, int]:
        """Edges of one batch of uses (in their order) as references rows, and how many uses name nothing known."""
        use_name = _name_codes(raw["name"], self.names)  # -1: a name no symbol carries
        use_path = _codes(raw["path"], self.paths)
        use_line = raw["line"].to_numpy().astype(np.int64)
        use_group = as_numpy(pc.not_equal(raw["kind"], "call")).astype(np.int64)  # 0 call, 1 use
        use_key = (use_name * 2 + use_group) * self.n_families + self.family_of_path[use_path]
        count, only = self.by_name.lookup(use_key)
        known = (count > 0) & (use_name >= 0) & (use_path >= 0)
        count = np.where(known, count, 0)
        external = int((~known).sum())
        dst = np.where(count == 1, only, -1)
        # Only a name several definitions carry is looked for in the use's file, then its folder (most have one).
        several = np.flatnonzero(count > 1)
        key, path = use_key[several], use_path[several]
        n_file, file_row = self.by_file.lookup(key * self.n_paths + path)
        n_dir, dir_row = self.by_dir.lookup(key * self.n_dirs + self.dir_of_path[path])
        dst[several] = np.where(n_file == 1, file_row, np.where(n_dir == 1, dir_row, -1))

        # A repeat of a use, or a name at its own definition, is not an edge.
        order = np.flatnonzero(known & self._first_and_not_at_site(use_path, use_line, use_name, use_group))
        source = self._callers(use_path[order], use_line[order])
        picked = pa.array(order)
        table = pa.table({"src_id": self.ids.take(source),
                          "src_name": _take_text(self.symbol_names, source),
                          "dst_id": self.ids.take(dst[order]), "dst_name": raw["name"].take(picked),
                          "kind": _text(raw["kind"].take(picked)), "path": _text(raw["path"].take(picked)),
                          "line": pa.array(use_line[order], pa.int64()),
                          "candidates": pa.array(count[order], pa.int64())}, schema=arrow_schema(Reference))
        return table, external

    def _keys_fit(self) -> bool:
        """True when (path, line, name, call|use) packs into one int64 (a line past every definition's, too)."""
        return self.n_paths * self.line_span * (len(self.names.names) + 1) * 2 < 1 << 62

    def _site_key(self, path: np.ndarray, line: np.ndarray, name: np.ndarray) -> np.ndarray:
        return (path * self.line_span + line) * (len(self.names.names) + 1) + name

    def _first_and_not_at_site(self, path: np.ndarray, line: np.ndarray, name: np.ndarray,
                               group: np.ndarray) -> np.ndarray:
        """Per use: the first of its repeats (same file, line, name and kind) and not at a definition of its name."""
        first = np.zeros(len(path), dtype=bool)
        if self.site_keys is not None and line.max(initial=0) < self.line_span:
            first[np.unique(self._site_key(path, line, name) * 2 + group, return_index=True)[1]] = True
        else:  # too wide for one integer: compare the columns
            first = ~_pandas().DataFrame({"path": path, "line": line, "name": name, "group": group}).duplicated().to_numpy()
        return first & ~self._at_site(path, line, name)

    def _at_site(self, path: np.ndarray, line: np.ndarray, name: np.ndarray) -> np.ndarray:
        """Per use: a definition of its name starts at its file and line."""
        if self.site_keys is None:
            uses = _pandas().DataFrame({"path": path, "line": line, "name": name})
            return uses.merge(self.sites, how="left")["site"].notna().to_numpy()
        if not len(self.site_keys):
            return np.zeros(len(path), dtype=bool)
        # A line past every file's end is put on the last line key, which no definition holds.
        site = self._site_key(path, np.minimum(line, self.line_span - 1), name)
        return _found_at(self.site_keys, site)[1]

    def _callers(self, paths: np.ndarray, lines: np.ndarray) -> np.ndarray:
        """The symbol row of the innermost caller span around each use (-1 at file level): the last span starting
        at or before it, else up its parents until one holds it."""
        if not len(self.spans):
            return np.full(len(paths), -1, dtype=np.int64)
        at = search_sorted(self.position, (paths << 32) + lines, side="right") - 1
        span = np.where((at >= 0) & (self.span_path[np.maximum(at, 0)] == paths), at, -1)
        while True:  # a use past its span's end climbs to the span's parent
            outside = (span >= 0) & (self.span_end[np.maximum(span, 0)] < lines)
            if not outside.any():
                break
            span[outside] = self.parent[span[outside]]
        return np.where(span >= 0, self.spans[np.maximum(span, 0)], -1)


def _distinct(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """A column's distinct values as plain strings (the column may be dictionary-encoded)."""
    return _text(pc.unique(column))


def _text(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """A string column, decoded when it is dictionary-encoded."""
    return column.cast(pa.string()) if pa.types.is_dictionary(column.type) else column


def file_batches(uses: pa.Table, rows: int) -> Iterator[pa.Table]:
    """The uses in slices of about `rows`, each cut where one file's uses end and the next one's begin."""
    if uses.num_rows <= rows:
        yield uses
        return
    paths = dictionary_codes(uses["path"])[0]
    starts = np.flatnonzero(paths[1:] != paths[:-1]) + 1
    begin = 0
    while begin < uses.num_rows:
        at = np.searchsorted(starts, begin + rows)  # the first file starting at or after the target
        cut = int(starts[at]) if begin + rows < uses.num_rows and at < len(starts) else uses.num_rows
        yield uses.slice(begin, cut - begin)
        begin = cut
