"""Definitions as extractors emit them, and their enrichment into Symbols (end line, snippet, doc)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import groupby

from forklift_core.config import IngestConfig
from forklift_core.ingest.languages import TYPE_KINDS, canonical_kind, language_named
from forklift_core.records import Symbol, symbol_id

_CONTAINER_KINDS = TYPE_KINDS | {"namespace", "module", "function", "method"}
_DOCSTRING_START = re.compile(r'^\s*[rRbBuU]{0,2}("""|\'\'\')')


@dataclass
class Definition:
    """One definition before enrichment: what ctags or tree-sitter saw."""

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


def fill_missing_end_lines(defs: list[Definition], file_lines: int) -> None:
    """Estimate end lines the extractor left out: up to the next definition that is not nested in it."""
    ordered = sorted(defs, key=lambda d: d.line)
    for index, current in enumerate(ordered):
        if current.end_line >= current.line:
            continue
        end = file_lines
        for later in ordered[index + 1:]:
            nested = later.scope and (later.scope == current.name or later.scope.endswith(("." + current.name, "::" + current.name)))
            if not nested and later.line > current.line:
                end = later.line - 1
                break
        current.end_line = max(current.line, end)


def _trim_trailing_blank(lines: list[str]) -> list[str]:
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def extract_snippet(lines: list[str], start: int, end: int, config: IngestConfig) -> str:
    """The definition's source, bounded by lines and characters (a marker says when it was cut)."""
    chunk = _trim_trailing_blank(lines[start - 1:end])
    cut = len(chunk) > config.snippet_max_lines
    text = "\n".join(chunk[: config.snippet_max_lines])
    if len(text) > config.snippet_max_chars:
        text, cut = text[: config.snippet_max_chars], True
    return text + ("\n…" if cut else "")


def _leading_comment(lines: list[str], start: int, prefixes: tuple[str, ...]) -> str:
    """Comment lines directly above the definition (decorators and attributes skipped)."""
    index = start - 2
    while index >= 0 and lines[index].lstrip().startswith(("@", "#[")):
        index -= 1
    collected: list[str] = []
    while index >= 0:
        stripped = lines[index].strip()
        if not stripped or not stripped.startswith(prefixes + ("*/",)):
            break
        collected.append(stripped)
        index -= 1
    cleaned = []
    for raw in reversed(collected):
        text = raw
        for marker in ("///", "//!", "//", "/**", "/*", "*/", "#", "--", "*"):
            if text.startswith(marker):
                text = text[len(marker):]
                break
        text = text.removesuffix("*/").strip()
        if text:
            cleaned.append(text)
    return "\n".join(cleaned)


def _python_docstring(lines: list[str], start: int, end: int) -> str:
    """The docstring of a Python def/class: the first statement of its body when it is a string."""
    index = start - 1
    while index < min(end, len(lines)) and not lines[index].rstrip().endswith(":"):
        index += 1  # skip a multi-line signature
    index += 1
    while index < min(end, len(lines)) and not lines[index].strip():
        index += 1
    if index >= min(end, len(lines)):
        return ""
    match = _DOCSTRING_START.match(lines[index])
    if not match:
        return ""
    quote = match.group(1)
    body = lines[index][match.end():]
    if quote in body:
        return body.split(quote, 1)[0].strip()
    collected = [body]
    for line in lines[index + 1:end]:
        if quote in line:
            collected.append(line.split(quote, 1)[0])
            break
        collected.append(line)
    return "\n".join(part.strip() for part in collected).strip()


def extract_doc(lines: list[str], definition: Definition, config: IngestConfig) -> str:
    """Docstring (Python) or leading comment, bounded."""
    doc = ""
    if definition.language == "Python" and definition.kind in _CONTAINER_KINDS:
        doc = _python_docstring(lines, definition.line, definition.end_line)
    if not doc:
        doc = _leading_comment(lines, definition.line, language_named(definition.language).comment_prefixes)
    return doc[: config.doc_max_chars]


def enrich_file(defs: list[Definition], text: str, config: IngestConfig) -> list[Symbol]:
    """Symbols of one file: end lines filled, snippet and doc attached."""
    lines = text.splitlines()
    fill_missing_end_lines(defs, len(lines))
    symbols = []
    for d in defs:
        end = max(d.line, min(d.end_line, len(lines)))
        symbols.append(Symbol(
            id=symbol_id(d.path, d.line, d.name, d.kind), name=d.name, kind=d.kind, language=d.language,
            path=d.path, line=d.line, end_line=end, scope=d.scope, scope_kind=d.scope_kind,
            signature=d.signature, access=d.access, snippet=extract_snippet(lines, d.line, end, config),
            doc=extract_doc(lines, d, config), extractor=d.extractor,
        ))
    return symbols


def group_by_path(defs: list[Definition]) -> dict[str, list[Definition]]:
    """Definitions grouped by file."""
    ordered = sorted(defs, key=lambda d: (d.path, d.line))
    return {path: list(items) for path, items in groupby(ordered, key=lambda d: d.path)}
