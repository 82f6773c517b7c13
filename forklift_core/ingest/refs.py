"""Resolve raw name uses into edges between symbols: the enclosing caller and the definition used."""

from __future__ import annotations

import posixpath

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from forklift_core.ingest.languages import TYPE_KINDS, language_for
from forklift_core.records import Reference, arrow_schema

CALLABLE_KINDS = frozenset({"function", "method", "macro", "class", "struct"})
_CALLER_KINDS = frozenset({"function", "method", "class", "struct", "impl", "interface", "trait", "namespace", "module"})


# Languages whose code can call each other's definitions by name; any other pair never links.
_LINKED_LANGUAGES = {"C": "c-family", "C++": "c-family", "JavaScript": "js-family", "TypeScript": "js-family",
                     "TSX": "js-family"}


def language_family(language: str) -> str:
    """The group of languages a name can resolve across (C with C++, JavaScript with TypeScript)."""
    return _LINKED_LANGUAGES.get(language, language)


def _parents(starts: np.ndarray, ends: np.ndarray, files: np.ndarray) -> np.ndarray:
    """For each caller span (sorted by file, then start, end, id): the latest earlier span of its file that
    contains its start, or -1. Walking back through parents skips every span that cannot contain it."""
    parent = np.full(len(starts), -1, dtype=np.int64)
    for i in range(1, len(starts)):
        j = i - 1
        while j >= 0 and files[j] == files[i] and ends[j] < starts[i]:
            j = parent[j]
        parent[i] = j if j >= 0 and files[j] == files[i] else -1
    return parent


def _codes(column: pa.ChunkedArray, dictionary: pa.Array) -> np.ndarray:
    """Each value's position in `dictionary` (every value is in it)."""
    return pc.index_in(column, value_set=dictionary).to_numpy(zero_copy_only=False).astype(np.int64)


def _first_of_groups(keys: np.ndarray, rows: np.ndarray, lookup: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each key in `lookup`: how many of `keys` equal it, and the row of the first of them (-1 when none)."""
    unique, first, counts = np.unique(keys, return_index=True, return_counts=True)
    at = np.minimum(np.searchsorted(unique, lookup), max(len(unique) - 1, 0))
    hit = (unique[at] == lookup) if len(unique) else np.zeros(len(lookup), dtype=bool)
    return np.where(hit, counts[at] if len(unique) else 0, 0), np.where(hit, rows[first[at]] if len(unique) else -1, -1)


def _take_text(column: pa.ChunkedArray | pa.Array, rows: np.ndarray) -> pa.Array:
    """Values at `rows`, '' where the row is -1."""
    picked = pc.take(column, pa.array(np.maximum(rows, 0), mask=rows < 0))
    return pc.fill_null(picked, "")


def resolve_references(raw: pa.Table, symbols: pa.Table) -> tuple[pa.Table, int]:
    """Edges to names the index defines, as the references table, plus the count of uses of names it does not.

    A use resolves among the definitions carrying its name that it could mean (callables for a call, types for a
    use, within its language family): the only one, else the only one in its file, else in its folder, else none
    (''). Its source is the innermost caller span around it. Done on whole columns of integer codes (names, paths,
    families): a kernel tree has millions of uses, and no string is compared after the codes are made. The edges
    come out in the order of the uses.
    """
    schema = arrow_schema(Reference)
    if not raw.num_rows:
        return schema.empty_table(), 0
    names = pc.unique(pa.chunked_array(symbols["name"].chunks + raw["name"].chunks, pa.string()))
    paths = pc.unique(pa.chunked_array(symbols["path"].chunks + raw["path"].chunks, pa.string()))
    path_list = paths.to_pylist()
    dir_of_path = pd.factorize(np.array([posixpath.dirname(p) for p in path_list], dtype=object))[0]
    family_index: dict[str, int] = {}  # language family -> code, made as they are met

    def family_code(language: str) -> int:
        return family_index.setdefault(language_family(language), len(family_index))

    family_of_path = np.array([family_code(spec.name if (spec := language_for(p)) else "") for p in path_list],
                              dtype=np.int64)
    languages = pc.unique(symbols["language"])  # a family per distinct language, spread to symbols by code
    def_family = np.array([family_code(lang) for lang in languages.to_pylist()], dtype=np.int64)[
        _codes(symbols["language"], languages)]
    n_families, n_paths, n_dirs = len(family_index) + 1, len(path_list) + 1, int(dir_of_path.max(initial=0)) + 2

    def_name, def_path = _codes(symbols["name"], names), _codes(symbols["path"], paths)
    def_line, def_end = symbols["line"].to_numpy(), symbols["end_line"].to_numpy()
    kinds = symbols["kind"]
    use_name, use_path = _codes(raw["name"], names), _codes(raw["path"], paths)
    use_line = raw["line"].to_numpy().astype(np.int64)
    use_group = pc.not_equal(raw["kind"], "call").to_numpy(zero_copy_only=False).astype(np.int64)  # 0 call, 1 use

    # Candidates per (name, call|use, family), and per file and folder for the names several carry.
    callable_rows = np.flatnonzero(pc.is_in(kinds, pa.array(sorted(CALLABLE_KINDS))).to_numpy(zero_copy_only=False))
    type_rows = np.flatnonzero(pc.is_in(kinds, pa.array(sorted(TYPE_KINDS))).to_numpy(zero_copy_only=False))
    cand = np.concatenate([callable_rows, type_rows])
    cand_group = np.concatenate([np.zeros(len(callable_rows), np.int64), np.ones(len(type_rows), np.int64)])
    cand_key = (def_name[cand] * 2 + cand_group) * n_families + def_family[cand]
    use_key = (use_name * 2 + use_group) * n_families + family_of_path[use_path]
    count, only = _first_of_groups(cand_key, cand, use_key)
    known = count > 0
    external = int((~known).sum())
    n_file, file_row = _first_of_groups(cand_key * n_paths + def_path[cand], cand, use_key * n_paths + use_path)
    n_dir, dir_row = _first_of_groups(cand_key * n_dirs + dir_of_path[def_path[cand]], cand,
                                      use_key * n_dirs + dir_of_path[use_path])
    dst = np.where(count == 1, only, np.where(n_file == 1, file_row, np.where(n_dir == 1, dir_row, -1)))

    # A repeat of a use, or a name at its own definition, is not an edge.
    uses = pd.DataFrame({"path": use_path, "line": use_line, "name": use_name, "group": use_group})
    keep = known & ~uses.duplicated().to_numpy()
    sites = pd.DataFrame({"path": def_path, "line": def_line, "name": def_name}).drop_duplicates()
    at_site = uses[["path", "line", "name"]].merge(sites.assign(site=True), how="left")["site"].notna().to_numpy()
    order = np.flatnonzero(keep & ~at_site)

    # The innermost caller around each use: the last span starting at or before it, else up its parents.
    spans = np.flatnonzero(pc.is_in(kinds, pa.array(sorted(_CALLER_KINDS))).to_numpy(zero_copy_only=False))
    id_rank = pc.rank(symbols["id"].take(pa.array(spans)), sort_keys="ascending", tiebreaker="first").to_numpy()
    spans = spans[np.lexsort((id_rank, def_end[spans], def_line[spans], def_path[spans]))]
    span_path, span_line, span_end = def_path[spans], def_line[spans], def_end[spans]
    parent = _parents(span_line, span_end, span_path)
    position = (span_path << 32) + span_line  # sorted: spans are ordered by path code, then line
    at = np.searchsorted(position, (use_path[order] << 32) + use_line[order], side="right") - 1
    span = np.where((at >= 0) & (span_path[np.maximum(at, 0)] == use_path[order]), at, -1) if len(spans) else \
        np.full(len(order), -1, dtype=np.int64)
    lines = use_line[order]
    while len(spans):  # a use past its span's end climbs to the span's parent, until one holds it or none is left
        outside = (span >= 0) & (span_end[np.maximum(span, 0)] < lines)
        if not outside.any():
            break
        span[outside] = parent[span[outside]]
    source = np.where(span >= 0, spans[np.maximum(span, 0)] if len(spans) else -1, -1)
    picked = pa.array(order)
    table = pa.table({"src_id": _take_text(symbols["id"], source), "src_name": _take_text(symbols["name"], source),
                      "dst_id": _take_text(symbols["id"], dst[order]), "dst_name": raw["name"].take(picked),
                      "kind": raw["kind"].take(picked), "path": raw["path"].take(picked),
                      "line": pa.array(lines, pa.int64()), "candidates": pa.array(count[order], pa.int64())},
                     schema=schema)
    return table, external

