"""Resolve raw name uses into edges between symbols: the enclosing caller and the definition used."""

from __future__ import annotations

import posixpath
from bisect import bisect_right
from collections import defaultdict
from typing import Iterable

from forklift_core.ingest.languages import TYPE_KINDS, language_for
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


# Languages whose code can call each other's definitions by name; any other pair never links.
_LINKED_LANGUAGES = {"C": "c-family", "C++": "c-family", "JavaScript": "js-family", "TypeScript": "js-family",
                     "TSX": "js-family"}


def language_family(language: str) -> str:
    """The group of languages a name can resolve across (C with C++, JavaScript with TypeScript)."""
    return _LINKED_LANGUAGES.get(language, language)


class _Candidates:
    """Definitions by (name, wanted kinds, language family), indexed by file and folder so each lookup is O(1)."""

    def __init__(self, symbols: list[Symbol]) -> None:
        self._groups: dict[tuple[str, str, str], tuple[list[str], dict[str, list[str]], dict[str, list[str]]]] = {}
        for s in symbols:
            for group, kinds in (("call", CALLABLE_KINDS), ("use", TYPE_KINDS)):
                if s.kind in kinds:
                    key = (s.name, group, language_family(s.language))
                    ids, by_file, by_dir = self._groups.setdefault(key, ([], defaultdict(list), defaultdict(list)))
                    ids.append(s.id)
                    by_file[s.path].append(s.id)
                    by_dir[posixpath.dirname(s.path)].append(s.id)

    def resolve(self, name: str, group: str, path: str, family: str) -> tuple[str, int]:
        """(the one definition the name most likely means or '', how many carry the name)."""
        entry = self._groups.get((name, group, family))
        if entry is None:
            return "", 0
        ids, by_file, by_dir = entry
        if len(ids) == 1:
            return ids[0], 1
        for local in (by_file.get(path, ()), by_dir.get(posixpath.dirname(path), ())):
            if len(local) == 1:
                return local[0], len(ids)
        return "", len(ids)


def resolve_references(raw: Iterable[RawReference], symbols: list[Symbol]) -> tuple[list[Reference], int]:
    """Edges to names the index defines, plus the count of uses of names it does not (external)."""
    by_path: dict[str, list[Symbol]] = defaultdict(list)
    definition_sites = set()
    for s in symbols:
        by_path[s.path].append(s)
        definition_sites.add((s.path, s.line, s.name))
    candidates = _Candidates(symbols)
    enclosing: dict[str, _Enclosing] = {}
    families: dict[str, str] = {}
    edges: list[Reference] = []
    external = 0
    seen = set()
    for ref in raw:
        family = families.get(ref.path)
        if family is None:  # once per file, not once per use
            spec = language_for(ref.path)
            family = families[ref.path] = language_family(spec.name if spec else "")
        dst_id, count = candidates.resolve(ref.name, ref.kind, ref.path, family)
        if count == 0:
            external += 1
            continue
        key = (ref.path, ref.line, ref.name, ref.kind)
        if key in seen or (ref.path, ref.line, ref.name) in definition_sites:
            continue  # a repeat, or the name at its own definition (not a use)
        seen.add(key)
        finder = enclosing.get(ref.path)
        if finder is None:
            finder = enclosing[ref.path] = _Enclosing(by_path.get(ref.path, []))
        src_id, src_name = finder.at(ref.line)
        edges.append(Reference(src_id=src_id, src_name=src_name, dst_id=dst_id, dst_name=ref.name, kind=ref.kind,
                               path=ref.path, line=ref.line, candidates=count))
    return edges, external
