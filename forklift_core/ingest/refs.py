"""Resolve raw name uses into edges between symbols: the enclosing caller and the definition used."""

from __future__ import annotations

import posixpath
from bisect import bisect_right
from collections import defaultdict
from typing import Iterable

from forklift_core.ingest.languages import TYPE_KINDS
from forklift_core.ingest.treesitter import RawReference
from forklift_core.records import Reference, Symbol

CALLABLE_KINDS = frozenset({"function", "method", "macro", "class", "struct"})
_CALLER_KINDS = frozenset({"function", "method", "class", "struct", "impl", "interface", "trait", "namespace", "module"})


class _Enclosing:
    """Finds the innermost definition around a line of one file."""

    def __init__(self, symbols: list[Symbol]) -> None:
        self._spans = sorted((s.line, s.end_line, s.id, s.name) for s in symbols if s.kind in _CALLER_KINDS)
        self._starts = [span[0] for span in self._spans]

    def at(self, line: int) -> tuple[str, str]:
        index = bisect_right(self._starts, line) - 1
        while index >= 0:
            start, end, sid, name = self._spans[index]
            if start <= line <= end:
                return sid, name
            index -= 1
        return "", ""


def _pick(candidates: list[Symbol], path: str) -> str:
    """The one definition a name most likely means: unique, else in the same file, else directory."""
    if len(candidates) == 1:
        return candidates[0].id
    same_file = [c for c in candidates if c.path == path]
    if len(same_file) == 1:
        return same_file[0].id
    directory = posixpath.dirname(path)
    same_dir = [c for c in candidates if posixpath.dirname(c.path) == directory]
    return same_dir[0].id if len(same_dir) == 1 else ""


def resolve_references(raw: Iterable[RawReference], symbols: list[Symbol]) -> tuple[list[Reference], int]:
    """Edges to names the index defines, plus the count of uses of names it does not (external)."""
    by_name: dict[str, list[Symbol]] = defaultdict(list)
    by_path: dict[str, list[Symbol]] = defaultdict(list)
    definition_sites = set()
    for s in symbols:
        by_name[s.name].append(s)
        by_path[s.path].append(s)
        definition_sites.add((s.path, s.line, s.name))
    enclosing: dict[str, _Enclosing] = {}
    edges: list[Reference] = []
    external = 0
    seen = set()
    for ref in raw:
        wanted = CALLABLE_KINDS if ref.kind == "call" else TYPE_KINDS
        candidates = [c for c in by_name.get(ref.name, ()) if c.kind in wanted]
        if not candidates:
            external += 1
            continue
        if (ref.path, ref.line, ref.name) in definition_sites:
            continue  # the name at its own definition is not a use
        key = (ref.path, ref.line, ref.name, ref.kind)
        if key in seen:
            continue
        seen.add(key)
        finder = enclosing.get(ref.path)
        if finder is None:
            finder = enclosing[ref.path] = _Enclosing(by_path.get(ref.path, []))
        src_id, src_name = finder.at(ref.line)
        edges.append(Reference(src_id=src_id, src_name=src_name, dst_id=_pick(candidates, ref.path),
                               dst_name=ref.name, kind=ref.kind, path=ref.path, line=ref.line,
                               candidates=len(candidates)))
    return edges, external
