"""Python call sites by a lexical scan: each name written right before "(", outside comments and strings.

ctags records no calls, so a Python tree's references were a tree-sitter parse of every file: four times bare
ctags' time on a large tree, for one query (`name(...)` and `obj.name(...)`). The scan finds the same calls — on
the transformers package 266,045 of tree-sitter's 266,048 (the three left sit in f-strings nested in f-strings),
plus five in lines tree-sitter misparsed — in a fifth of the time: one regex marks comments and strings, and the
call regex runs over the reversed text, so the engine jumps from one "(" to the next instead of trying every name.
The same scan in native code (`_native.c`, one pass per file) finds exactly these calls in a seventh of the time;
it is used when it was built, and a test holds the two to the same rows.
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np
import pyarrow as pa

from forklift_core.ingest.incremental import USES_SCHEMA
from forklift_core.ingest.buffers import LaidOut, read_laid_out
from forklift_core.ingest.native import native, uses_columns

# Comments and string literals (a triple-quoted or unterminated one running to the end): what they hold is not code.
_NOT_CODE = re.compile(rb'#[^\n]*+'
                       rb'|"""(?:[^"\\]|\\.|"(?!""))*+(?:"""|\Z)|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*+(?:\'\'\'|\Z)'
                       rb'|"(?:[^"\\\n]|\\.)*+"?|\'(?:[^\'\\\n]|\\.)*+\'?', re.S)
# Read backwards from a "(": spaces (or a backslash-continued line), then a name (UTF-8 bytes are name bytes).
_CALL_REVERSED = re.compile(rb'\([ \t]*+(?:\n\r?\\[ \t]*+)?([\w\x80-\xff]++)')
_BRACE = re.compile(rb"[{}]")
# A match statement's lines (soft keywords: `match` and `case` are names elsewhere): what a case line holds before
# its guard is a pattern, where `Point(x=0)` matches a class instead of calling it.
# Starting at a newline (the text is given one in front): the engine then only tries line starts.
_SOFT_KEYWORD_LINE = re.compile(rb"\n[ \t]*(match|case)\b([^\n]*)")
_ENDS_WITH_COLON = re.compile(rb":[ \t]*(?:#[^\n]*)?$")
_KEYWORDS = frozenset(b"and as assert async await del elif else except for from global if import in is lambda not "
                      b"or pass raise return while with yield".split())
_STRING_PREFIX = frozenset(b"rRbBuUfF")
# f-strings inside replacement fields are scanned to this depth (a hostile file could nest thousands).
_MAX_FIELD_DEPTH = 8
_NAME_BYTE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") | frozenset(range(128, 256))


def _is_f_string(source: bytes, quote: int) -> bool:
    """Whether the string literal whose quote is at `quote` has a prefix with an f (f, rf, Fr ...)."""
    start = quote
    while start > 0 and quote - start < 3 and source[start - 1] in _STRING_PREFIX:
        start -= 1
    whole_prefix = start == 0 or source[start - 1] not in _NAME_BYTE  # not the tail of a longer name
    return start < quote and whole_prefix and b"f" in source[start:quote].lower()


def _replacement_fields(source: bytes, start: int, end: int) -> list[tuple[int, int]]:
    """The (start, end) of each replacement field of the f-string at source[start:end]: code inside a string.

    Outside a field a doubled brace is a literal one; inside, braces nest (`{ {"a": 1}[k] }`, `{", ".join(x)}`).
    """
    fields, depth, opened, skip_to = [], 0, 0, -1
    for brace in _BRACE.finditer(source, start, end):
        at = brace.start()
        if at < skip_to:
            continue
        if depth == 0:
            if source[at:at + 2] in (b"{{", b"}}"):
                skip_to = at + 2  # a literal brace
            elif source[at] == ord("{"):
                depth, opened = 1, at + 1
        elif source[at] == ord("{"):
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                fields.append((opened, at))
    return fields


def _not_calls(source: bytes) -> list[tuple[int, int]]:
    """(start, end) of the spans of match statements where a name before "(" is no call: the `match` keyword, and
    a `case` line from its keyword to its guard (or its colon)."""
    spans = []
    for line in _SOFT_KEYWORD_LINE.finditer(b"\n" + source):
        if not _ENDS_WITH_COLON.search(line.group(2)):
            continue  # `match(x)`, `case = 1`: a plain name
        start, end = line.start(1) - 1, line.end(1) - 1  # offsets in `source`, without the newline put in front
        if line.group(1) == b"case":
            guard = source.find(b" if ", end, line.end() - 1)
            end = guard if guard >= 0 else line.end() - 1
        spans.append((start, end))
    return spans


def _inside(spans: list[tuple[int, int]], at: np.ndarray) -> np.ndarray:
    """Per offset: whether it falls in one of the sorted, disjoint spans."""
    if not spans:
        return np.zeros(len(at), dtype=bool)
    starts = np.array([start for start, _ in spans], dtype=np.int64)
    ends = np.array([end for _, end in spans], dtype=np.int64)
    before = np.searchsorted(starts, at, side="right") - 1
    return (before >= 0) & (at < ends[np.maximum(before, 0)])


def python_calls(source: bytes, depth: int = 0) -> list[tuple[int, bytes]]:
    """(byte offset, name) of each call in one file's Python source, in source order.

    `f(x)` and `obj.f(x)` are calls of f; a keyword before a parenthesis (`if (`, `return (`), the name a
    `def`/`class` line defines and a class pattern of a `case` line are not; calls inside an f-string's
    replacement fields are.
    """
    text, fields = [], []
    for match in _NOT_CODE.finditer(source):
        start, end = match.span()
        text.append((start, end))
        if depth < _MAX_FIELD_DEPTH and source[start] != ord("#") and _is_f_string(source, start):
            fields += _replacement_fields(source, start, end)
    size = len(source)
    found = [(size - m.end(1), m.group(1)[::-1]) for m in _CALL_REVERSED.finditer(source[::-1])]
    calls = []
    if found:
        at = np.array([offset for offset, _ in found], dtype=np.int64)
        hidden = _inside(text, at) | _inside(_not_calls(source), at)
        for (offset, name), in_text in zip(found, hidden.tolist()):
            if in_text or name[:1].isdigit():
                continue
            ahead = source[max(offset - 6, 0):offset]
            if ahead.endswith(b".") or (name not in _KEYWORDS and not ahead.endswith((b"def ", b"class "))):
                calls.append((offset, name))
    for start, end in fields:
        calls += [(start + offset, name) for offset, name in python_calls(source[start:end], depth + 1)]
    calls.sort()
    return calls


def python_uses(root: str, paths: Sequence[str]) -> pa.Table:
    """The call sites of the listed Python files as name-use rows (path, line, name, kind `call`)."""
    return python_uses_in(read_laid_out(root, paths))  # a file gone since the walk has no uses


def python_uses_in(files: LaidOut) -> pa.Table:
    """The call sites of Python files read into one buffer, as name-use rows: by the native scan (`_native.c`, the
    same findings in a seventh of the time) when it was built, else by `python_calls`."""
    paths = files.paths
    if native is not None:
        return uses_columns(paths, *native.python_calls(files.data, files.ends.tobytes()))
    path_codes, lines, names = [], [], []
    for code, (_, source) in enumerate(files.texts()):
        calls = python_calls(source)
        newlines = np.flatnonzero(np.frombuffer(source, dtype=np.uint8) == ord("\n"))
        offsets = np.array([offset for offset, _ in calls], dtype=np.int64)
        lines.append(np.searchsorted(newlines, offsets, side="right") + 1)
        path_codes.append(np.full(len(calls), code, dtype=np.int32))
        names += [name.decode("utf-8", "replace") for _, name in calls]
    if not names:
        return USES_SCHEMA.empty_table()
    return pa.table({"path": pa.DictionaryArray.from_arrays(np.concatenate(path_codes), pa.array(paths, pa.string())),
                     "line": pa.array(np.concatenate(lines), pa.int64()),
                     "name": pa.array(names, pa.string()),
                     "kind": pa.DictionaryArray.from_arrays(np.zeros(len(names), dtype=np.int32),
                                                            pa.array(["call"]))},
                    schema=USES_SCHEMA)
