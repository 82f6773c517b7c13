"""Tree-sitter extraction: definitions (the fallback when ctags is absent) and call/use references."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple, Sequence

from forklift_core.ingest.definitions import Definition
from forklift_core.ingest.languages import language_named, language_for

_CONTAINER_KINDS = frozenset({"class", "struct", "interface", "trait", "impl", "namespace", "module", "enum"})


class RawReference(NamedTuple):
    """A name used at path:line, before it is resolved to a symbol (a tuple: cheap to send between processes)."""

    path: str
    line: int
    name: str
    kind: str  # call | use


@dataclass(frozen=True)
class FileTask:
    """One file for a tree-sitter worker."""

    path: str
    language: str


def treesitter_available() -> bool:
    """True when the bundled grammars load (no download at run time)."""
    try:
        from tree_sitter_language_pack import get_parser

        get_parser("python")
        return True
    except Exception:
        return False


@lru_cache(maxsize=None)
def _parser_and_queries(language: str):  # type: ignore[no-untyped-def]
    """Parser and compiled queries of one language, built once per worker process."""
    from tree_sitter import Query
    from tree_sitter_language_pack import get_language, get_parser

    spec = language_named(language)
    grammar = get_language(spec.treesitter_name)
    definitions = Query(grammar, spec.definition_query) if spec.definition_query.strip() else None
    references = Query(grammar, spec.reference_query) if spec.reference_query.strip() else None
    return get_parser(spec.treesitter_name), definitions, references


def _text(node, source: bytes) -> str:  # type: ignore[no-untyped-def]
    return source[node.start_byte:node.end_byte].decode("utf-8", "replace")


def _definitions(tree, query, source: bytes, task: FileTask) -> list[Definition]:  # type: ignore[no-untyped-def]
    from tree_sitter import QueryCursor

    found = []  # (start_row, end_row, kind, name, signature)
    for _pattern, captures in QueryCursor(query).matches(tree.root_node):
        kind_key = next((k for k in captures if k.startswith("definition.")), None)
        if kind_key is None or "name" not in captures:
            continue
        node, name_node = captures[kind_key][0], captures["name"][0]
        params = node.child_by_field_name("parameters")
        signature = " ".join(_text(params, source).split()) if params is not None else ""
        found.append((name_node.start_point[0] + 1, node.start_point[0] + 1, node.end_point[0] + 1,
                      kind_key.split(".", 1)[1], _text(name_node, source), signature))
    defs = []
    for line, start, end, kind, name, signature in found:
        # Innermost container whose span holds this definition gives its scope.
        holders = [c for c in found if c[3] in _CONTAINER_KINDS and c[1] <= start and end <= c[2]
                   and (c[1], c[2]) != (start, end)]
        scope = max(holders, key=lambda c: c[1]) if holders else None
        defs.append(Definition(name=name, kind=kind, language=task.language, path=task.path, line=line,
                               end_line=end, scope=scope[4] if scope else "", scope_kind=scope[3] if scope else "",
                               signature=signature, extractor="tree-sitter"))
    return defs


def _references(tree, query, source: bytes, task: FileTask) -> list[RawReference]:  # type: ignore[no-untyped-def]
    from tree_sitter import QueryCursor

    found = [(node.start_byte, capture, node) for capture, nodes in QueryCursor(query).captures(tree.root_node).items()
             for node in nodes]
    found.sort(key=lambda item: item[:2])  # in source order: the captures come back in no fixed order
    return [RawReference(task.path, node.start_point[0] + 1, _text(node, source), capture) for _, capture, node in found]


def extract_batch(root: str, tasks: Sequence[FileTask], want_definitions: bool,
                  want_references: bool) -> tuple[list[Definition], list[RawReference]]:
    """Parse each file once and run the wanted queries (runs inside a worker process)."""
    defs: list[Definition] = []
    refs: list[RawReference] = []
    for task in tasks:
        try:
            parser, def_query, ref_query = _parser_and_queries(task.language)
            with open(os.path.join(root, task.path), "rb") as handle:
                source = handle.read()
        except (OSError, LookupError, ValueError):
            continue
        tree = parser.parse(source)
        if want_definitions and def_query is not None:
            defs.extend(_definitions(tree, def_query, source, task))
        if want_references and ref_query is not None:
            refs.extend(_references(tree, ref_query, source, task))
    return defs, refs


def treesitter_tasks(paths_and_languages: Sequence[tuple[str, str]]) -> list[FileTask]:
    """Tasks for the files whose language has a tree-sitter grammar."""
    return [FileTask(p, lang) for p, lang in paths_and_languages
            if lang and language_named(lang).treesitter_name and language_for(p) is not None]

