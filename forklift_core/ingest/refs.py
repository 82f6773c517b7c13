"""Resolve raw name uses into edges between symbols: the enclosing caller and the definition used."""

from __future__ import annotations

import posixpath
from typing import Any

import pyarrow as pa

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


def _parents(starts: Any, ends: Any, files: Any) -> Any:
    """For each caller span (sorted by file, then start, end, id, name): the latest earlier span of its file that
    contains its start, or -1. Walking back through parents skips every span that cannot contain it."""
    import numpy as np

    parent = np.full(len(starts), -1, dtype=np.int64)
    for i in range(1, len(starts)):
        j = i - 1
        while j >= 0 and files[j] == files[i] and ends[j] < starts[i]:
            j = parent[j]
        parent[i] = j if j >= 0 and files[j] == files[i] else -1
    return parent


def resolve_references(raw: pa.Table, symbols: pa.Table) -> tuple[pa.Table, int]:
    """Edges to names the index defines, as the references table, plus the count of uses of names it does not.

    A use resolves among the definitions carrying its name that it could mean (callables for a call, types for a
    use, within its language family): the only one, else the only one in its file, else in its folder, else none
    (''). Its source is the innermost caller span around it. Done on whole columns (joins instead of a loop per
    use: a kernel tree has millions of uses); the edges come out in the order of the uses.
    """
    import numpy as np
    import pandas as pd

    schema = arrow_schema(Reference)
    if not raw.num_rows:
        return schema.empty_table(), 0
    uses = raw.select(["path", "line", "name", "kind"]).to_pandas().rename(columns={"kind": "group"})
    uses["order"] = np.arange(len(uses))
    defs = symbols.select(["id", "name", "kind", "path", "line", "end_line", "language"]).to_pandas().rename(
        columns={"end_line": "end"})
    codes, languages = pd.factorize(defs.pop("language"))
    defs["family"] = np.array([language_family(lang) for lang in languages], dtype=object)[codes]
    codes, paths = pd.factorize(uses["path"])  # per file once, then spread by code: no per-use Python
    uses["family"] = np.array([language_family(spec.name if (spec := language_for(p)) else "") for p in paths],
                              dtype=object)[codes]
    uses["dir"] = np.array([posixpath.dirname(p) for p in paths], dtype=object)[codes]

    # Candidates per (name, call|use, language family), and per file and folder for the names several carry.
    candidates = pd.concat([defs[defs["kind"].isin(CALLABLE_KINDS)].assign(group="call"),
                            defs[defs["kind"].isin(TYPE_KINDS)].assign(group="use")], ignore_index=True)
    candidates["dir"] = candidates["path"].map(posixpath.dirname)
    key = ["name", "group", "family"]
    total = candidates.groupby(key, sort=False)["id"].agg(count="size", only="first").reset_index()
    in_file = candidates.groupby(key + ["path"], sort=False)["id"].agg(n_file="size", file_id="first").reset_index()
    in_dir = candidates.groupby(key + ["dir"], sort=False)["id"].agg(n_dir="size", dir_id="first").reset_index()
    uses = uses.merge(total, on=key, how="left")
    known = uses["count"].notna()
    external = int((~known).sum())
    uses = uses[known].merge(in_file, on=key + ["path"], how="left").merge(in_dir, on=key + ["dir"], how="left")
    uses["dst_id"] = np.where(uses["count"] == 1, uses["only"],
                              np.where(uses["n_file"] == 1, uses["file_id"],
                                       np.where(uses["n_dir"] == 1, uses["dir_id"], "")))
    # A repeat of a use, or a name at its own definition, is not an edge.
    uses = uses.sort_values("order").drop_duplicates(["path", "line", "name", "group"])
    sites = defs[["path", "line", "name"]].drop_duplicates().assign(site=True)
    uses = uses.merge(sites, on=["path", "line", "name"], how="left")
    uses = uses[uses["site"].isna()]

    # The innermost caller around each use: the last span starting at or before it, else up its parents.
    spans = defs[defs["kind"].isin(_CALLER_KINDS)].sort_values(["path", "line", "end", "id", "name"],
                                                              ignore_index=True)
    parent = _parents(spans["line"].to_numpy(), spans["end"].to_numpy(), spans["path"].to_numpy())
    spans["span"] = np.arange(len(spans))
    located = pd.merge_asof(uses.sort_values("line"), spans[["path", "line", "span"]].sort_values(["line", "span"]),
                            on="line", by="path", direction="backward")
    span = located["span"].fillna(-1).to_numpy(dtype=np.int64)
    lines, ends = located["line"].to_numpy(), spans["end"].to_numpy()
    while True:  # a use past its span's end climbs to the span's parent, until one holds it or none is left
        outside = (span >= 0) & (ends[np.maximum(span, 0)] < lines)
        if not outside.any():
            break
        span[outside] = parent[span[outside]]
    ids, names = spans["id"].to_numpy(dtype=object), spans["name"].to_numpy(dtype=object)
    located["src_id"] = np.where(span >= 0, ids[np.maximum(span, 0)] if len(ids) else "", "")
    located["src_name"] = np.where(span >= 0, names[np.maximum(span, 0)] if len(names) else "", "")
    located = located.sort_values("order")
    table = pa.table({"src_id": located["src_id"].astype(str), "src_name": located["src_name"].astype(str),
                      "dst_id": located["dst_id"].astype(str), "dst_name": located["name"],
                      "kind": located["group"], "path": located["path"],
                      "line": located["line"].astype("int64"), "candidates": located["count"].astype("int64")},
                     schema=schema)
    return table, external
