"""Definitions into symbols: end lines filled, each definition's source (snippet) and doc attached, ids made.

Done on whole columns of one extraction chunk: the chunk's files are read into one buffer, its line boundaries
found once with numpy, and every definition's snippet and leading comment located by line arithmetic. Python
runs once per symbol only to cut and decode its text (a kernel tree has 1.4 million definitions). Lines are
counted as ctags counts them: by newline; a CRLF file's snippets use LF.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from forklift_core.config import IngestConfig
from forklift_core.ingest.buffers import TAIL_PAD, LaidOut, as_text, read_laid_out
from forklift_core.ingest.languages import TYPE_KINDS, language_named
from forklift_core.ingest.native import byte_ranges, int64_columns, laid_out_column, native
from forklift_core.ingest.tables import as_numpy, dictionary_codes
from forklift_core.records import Symbol, arrow_schema, symbol_ids

_CONTAINER_KINDS = TYPE_KINDS | {"namespace", "module", "function", "method"}
_DOCSTRING_START = re.compile(r'^\s*[rRbBuU]{0,2}("""|\'\'\')')
# Bytes str.strip() removes (ASCII ones: a line of only non-ASCII spaces counts as text).
_SPACE = np.zeros(256, dtype=bool)
_SPACE[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True
_COMMENT_MARKERS = ("///", "//!", "//", "/**", "/*", "*/", "#", "--", "*")
# The first bytes of a line read at once to match a prefix (every comment marker and decorator prefix is at most
# that long): the laid-out files have that many bytes after their last line, so no read needs a bounds check.
_PAD = TAIL_PAD


@dataclass
class _Lines:
    """The chunk's files in one buffer, with every line's bounds and its first non-space byte."""

    data: bytearray  # the task's files laid out (buffers.LaidOut), a blank line after them all
    starts: np.ndarray  # byte offset where each line starts
    ends: np.ndarray  # byte offset of its newline
    text_ends: np.ndarray  # the same without a trailing CR
    first: np.ndarray  # offset of its first non-space byte (>= text_ends when the line is blank)
    file_first_line: np.ndarray  # per file (in the order asked for): the index of its first line
    file_lines: np.ndarray  # per file: how many lines it has
    has_cr: np.ndarray  # per file: holds a CR (its snippets get CRLF turned into LF)
    blank_line: int  # the blank line after every file: what a bad line number points at

    @classmethod
    def of(cls, files: LaidOut, paths: list[str]) -> "_Lines":
        """The lines of the laid-out files, found once for them all; the per-file columns are for `paths` (each of
        them one of the files), in that order."""
        buffer = np.frombuffer(files.data, dtype=np.uint8)
        ends = np.flatnonzero(buffer == 10)
        # Each laid-out file's first line: the newlines before its first byte; the blank line's after the last.
        bounds = np.searchsorted(ends, np.concatenate([files.starts, [files.size]])).astype(np.int64)
        starts = np.concatenate([[0], ends[:-1] + 1]).astype(np.int64)
        carriage = (ends > starts) & (buffer[np.maximum(ends - 1, 0)] == 13)
        text_ends = ends - carriage
        with_cr = np.zeros(len(files.paths), dtype=bool)
        with_cr[np.searchsorted(files.ends, np.flatnonzero(buffer[:files.size] == 13), side="right")] = True
        position = {path: index for index, path in enumerate(files.paths)}
        order = np.array([position[path] for path in paths], dtype=np.int64)
        return cls(files.data, starts, ends, text_ends, _first_text(buffer, starts, ends), bounds[order],
                   (bounds[1:] - bounds[:-1])[order], with_cr[order], int(bounds[-1]))

    @property
    def nonblank(self) -> np.ndarray:
        return self.first < self.text_ends

    @functools.cached_property
    def heads(self) -> np.ndarray:
        """Per line: the first _PAD bytes of its text as one little-endian integer (what a prefix is matched on)."""
        buffer = np.frombuffer(self.data, dtype=np.uint8)
        heads = np.zeros(len(self.starts), dtype=np.uint32)
        for offset in range(_PAD):
            heads |= buffer[self.first + offset].astype(np.uint32) << (8 * offset)
        return heads

    def starting_with(self, prefixes: tuple[str, ...]) -> np.ndarray:
        """Per line: its text (spaces stripped) starts with one of the prefixes (each at most _PAD bytes)."""
        found = np.zeros(len(self.starts), dtype=bool)
        width = self.text_ends - self.first
        for prefix in prefixes:
            raw = prefix.encode()
            if len(raw) > _PAD:
                raise ValueError(f"a line prefix is at most {_PAD} bytes: {prefix!r}")
            mask = np.uint32((1 << (8 * len(raw))) - 1)
            found |= ((self.heads & mask) == int.from_bytes(raw, "little")) & (width >= len(raw))
        return found

    def text(self, line: int) -> str:
        """One line's text."""
        return self.data[self.starts[line]:self.text_ends[line]].decode("utf-8", "replace")


def _first_text(buffer: np.ndarray, starts: np.ndarray, ends: np.ndarray, steps: int = 24) -> np.ndarray:
    """Per line: the offset of its first non-space byte (its newline's when it has none).

    In native code when it was built (one pass: a kernel chunk's lines in a tenth of the time). Otherwise:
    indentation is short, so the first `steps` columns are tried for every line at once, and only the few lines
    still unresolved after them are searched over their whole length.
    """
    if native is not None:
        return np.frombuffer(native.first_text(buffer, *int64_columns(starts, ends)), np.int64).copy()
    first = ends.copy()
    pending = np.arange(len(starts))
    for column in range(steps):
        at = starts[pending] + column
        done = at >= ends[pending]  # reached the newline: nothing but spaces
        found = ~done & ~_SPACE[buffer[np.minimum(at, len(buffer) - 1)]]
        first[pending[found]] = at[found]
        pending = pending[~(done | found)]
        if not len(pending):
            return first
    for line in pending.tolist():  # deeply indented lines
        text = np.flatnonzero(~_SPACE[buffer[starts[line]:ends[line]]])
        first[line] = starts[line] + text[0] if len(text) else ends[line]
    return first


def _last_where(mask: np.ndarray) -> np.ndarray:
    """For each index: the last index at or before it where `mask` holds (-1 when none)."""
    return np.maximum.accumulate(np.where(mask, np.arange(len(mask)), -1)) if len(mask) else mask.astype(np.int64)


def _fill_end_lines(defs: pa.Table, file_of: np.ndarray, file_lines: np.ndarray) -> np.ndarray:
    """End lines, estimated where the extractor gave none: up to the next later definition not nested in it.

    `defs` is sorted by file then line; a definition nested in the one being estimated (its scope names it) is
    passed over, which only a few need, so those few walk on in Python.
    """
    line = defs["line"].to_numpy()
    end = defs["end_line"].to_numpy().copy()
    missing = np.flatnonzero(end < line)
    if not len(missing):
        return end
    key = (file_of << 32) + line
    after = np.searchsorted(key, key[missing], side="right")
    same_file = (after < len(key)) & (file_of[np.minimum(after, len(key) - 1)] == file_of[missing])
    following = np.minimum(after, len(key) - 1)
    names = defs["name"].take(pa.array(missing)).to_pylist()

    def nested(scope: str, name: str) -> bool:  # a definition whose scope names `name` sits inside it
        return bool(scope) and (scope == name or scope.endswith(("." + name, "::" + name)))

    # Most are followed by a definition not nested in them (a field by the next field or method): on columns.
    estimate = np.where(same_file, line[following] - 1, file_lines[file_of[missing]])
    inner = [index for index, (name, scope, inside) in
             enumerate(zip(names, defs["scope"].take(pa.array(following)).to_pylist(), same_file.tolist()))
             if inside and nested(scope, name)]
    for index in inner:  # the few with nested definitions walk on past them
        row, nxt = int(missing[index]), int(after[index])
        estimate[index] = file_lines[file_of[row]]
        while nxt < len(key) and file_of[nxt] == file_of[row]:
            if not nested(defs["scope"][nxt].as_py(), names[index]):
                estimate[index] = line[nxt] - 1
                break
            nxt += 1
    end[missing] = np.maximum(line[missing], estimate)
    return end


def enrich(root: Path, defs: pa.Table, config: IngestConfig, files: LaidOut | None = None) -> pa.Table:
    """The symbols table of one chunk's definitions (any DEFINITION_SCHEMA table), sorted by path then line;
    `files`: the files the task already read (else they are read here). A definition in a file that could not be
    read (gone since the walk) is left out: it has no source to show."""
    schema = arrow_schema(Symbol)
    if files is None:
        files = read_laid_out(root, pc.unique(defs["path"]).to_pylist() if defs.num_rows else [])
    if defs.num_rows:
        readable = pc.is_in(defs["path"], pa.array(files.paths, pa.string()))
        defs = defs if pc.all(readable).as_py() else defs.filter(readable)
    if not defs.num_rows:
        return schema.empty_table()
    defs = defs.sort_by([("path", "ascending"), ("line", "ascending")])  # Arrow's sort is stable
    # Codes number paths as first met, and the rows are sorted by path: so file i is paths[i].
    file_of, distinct = dictionary_codes(defs["path"].combine_chunks())
    lines = _Lines.of(files, distinct.to_pylist())
    file_lines = lines.file_lines
    line = defs["line"].to_numpy()
    end = _fill_end_lines(defs, file_of, file_lines)
    clamped = np.maximum(line, np.minimum(end, file_lines[file_of]))
    valid = (line >= 1) & (line <= file_lines[file_of])
    # The definition's first and last line in the buffer (a bad line number points at the blank line after all).
    floor, after_all = lines.file_first_line[file_of], lines.blank_line
    top = np.where(valid, floor + line - 1, after_all)
    bottom = np.where(valid, floor + clamped - 1, after_all)
    snippet_span = _snippet_spans(lines, top, bottom, config)
    docs = _docs(lines, defs, file_of, top, valid, end, config)
    columns = {name: defs[name] for name in ("name", "kind", "language", "path", "line", "scope", "scope_kind",
                                               "signature", "access", "extractor")}
    columns["end_line"] = pa.array(clamped, pa.int64())
    columns["snippet"] = _snippets(lines, file_of, *snippet_span, config)
    columns["doc"] = docs
    columns["id"] = symbol_ids(defs["path"], defs["line"], defs["name"], defs["kind"])
    return pa.table({name: columns[name] for name in schema.names}, schema=schema)


def _snippet_spans(lines: _Lines, top: np.ndarray, bottom: np.ndarray,
                   config: IngestConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(byte start, byte end, cut) of each snippet: its lines without trailing blank ones, at most the limit."""
    kept = np.maximum(_last_where(lines.nonblank)[bottom] - top + 1, 0)
    cut = kept > config.snippet_max_lines
    shown = np.minimum(kept, config.snippet_max_lines)
    start = np.where(shown > 0, lines.starts[top], 0)
    stop = np.where(shown > 0, lines.text_ends[np.maximum(top + shown - 1, 0)], 0)
    return start, stop, cut


def _snippets(lines: _Lines, file_of: np.ndarray, start: np.ndarray, stop: np.ndarray, cut: np.ndarray,
              config: IngestConfig) -> pa.Array:
    """Each snippet's text, cut at the character limit, with a marker when anything was left out.

    Cut out of the buffer in one join and decoded by Arrow; Python finishes only the rows that need more: a CRLF
    file's, a cut one, and one with more bytes than the limit has characters (only those can be over it).
    """
    limit = config.snippet_max_chars
    texts = as_text(byte_ranges(lines.data, start, stop))
    special = lines.has_cr[file_of] | cut | (stop - start > limit)
    if special.any():
        rows = np.flatnonzero(special)
        finished = [_snippet_text(lines.data[begin:finish], was_cut, crlf, limit) for begin, finish, was_cut, crlf
                    in zip(start[rows].tolist(), stop[rows].tolist(), cut[rows].tolist(),
                           lines.has_cr[file_of[rows]].tolist())]
        texts = pc.replace_with_mask(texts, pa.array(special), pa.array(finished, pa.large_string()))
    return texts.cast(pa.string())


def _snippet_text(raw: bytes, was_cut: bool, crlf: bool, limit: int) -> str:
    """One snippet's text: decoded, LF line ends, at most `limit` characters, a marker when anything is left out."""
    text = raw.decode("utf-8", "replace")
    if crlf:
        text = text.replace("\r\n", "\n")
    if len(text) > limit:
        text, was_cut = text[:limit], True
    return text + "\n…" if was_cut else text


def _docs(lines: _Lines, defs: pa.Table, file_of: np.ndarray, top: np.ndarray, valid: np.ndarray, end: np.ndarray,
          config: IngestConfig) -> pa.Array:
    """Each definition's doc: a Python docstring for a def or class, else the comment lines right above it
    (decorators and attributes passed over)."""
    above = top - 1
    floor = lines.file_first_line[file_of]
    decorated = lines.starting_with(("@", "#["))
    comment_end = _last_where(~decorated)[np.maximum(above, 0)]
    has_comment = valid & (above >= floor) & (comment_end >= floor)
    comment_top = np.zeros(len(top), dtype=np.int64)
    for language in pc.unique(defs["language"]).to_pylist():
        prefixes = language_named(language).comment_prefixes + ("*/",)
        commented = lines.starting_with(prefixes)
        rows = np.flatnonzero(as_numpy(pc.equal(defs["language"], language)))
        comment_top[rows] = np.maximum(_last_where(~commented)[np.maximum(comment_end[rows], 0)] + 1, floor[rows])
    has_comment &= comment_top <= comment_end
    python_container = valid & as_numpy(pc.and_(pc.equal(defs["language"], "Python"),
                                                pc.is_in(defs["kind"], pa.array(sorted(_CONTAINER_KINDS)))))
    spans = _DocSpans(file_of, top, end, python_container, has_comment, comment_top, comment_end)
    if native is None:
        return pa.array(_docs_by_row(lines, spans, config.doc_max_chars), pa.string())
    return _docs_in_native_code(lines, spans, config.doc_max_chars)


@dataclass
class _DocSpans:
    """Where each definition's doc can be: its Python body (a def/class), or the comment lines right above it."""

    file_of: np.ndarray
    top: np.ndarray  # the definition's first line in the buffer
    end: np.ndarray  # its last line in its file (1-based)
    python_container: np.ndarray
    has_comment: np.ndarray
    comment_top: np.ndarray
    comment_end: np.ndarray


def _docs_by_row(lines: _Lines, spans: _DocSpans, limit: int) -> list[str]:
    """The docs one definition at a time in Python: the way when the native helpers were not built."""
    docs, comments = [""] * len(spans.top), _CommentText(lines)
    floor = lines.file_first_line[spans.file_of]
    for row in np.flatnonzero(spans.python_container).tolist():
        docs[row] = _python_docstring(_FileLines(lines, int(spans.file_of[row])), int(spans.top[row] - floor[row]) + 1,
                                      int(spans.end[row]))[:limit]
    for row in np.flatnonzero(spans.has_comment).tolist():  # the rest have no doc
        if not docs[row]:  # a docstring comes before the comment above
            parts = (comments[index] for index in range(spans.comment_top[row], spans.comment_end[row] + 1))
            docs[row] = "\n".join(part for part in parts if part)[:limit]
    return docs


def _docs_in_native_code(lines: _Lines, spans: _DocSpans, limit: int) -> pa.Array:
    """The same docs, every row's at once in native code (a kernel chunk's comments in a tenth of the time)."""
    floor = lines.file_first_line[spans.file_of]
    # A definition that is no Python def/class gets an empty body to look in (first line = stop line).
    stop = np.where(spans.python_container, floor + np.clip(spans.end, 0, lines.file_lines[spans.file_of]),
                    spans.top)
    docstrings = laid_out_column(*native.python_docstrings(lines.data, *int64_columns(lines.starts, lines.text_ends,
                                                                                      spans.top, stop)))
    # No comment: an empty range (top after bottom).
    tops, bottoms = np.where(spans.has_comment, spans.comment_top, 1), np.where(spans.has_comment, spans.comment_end, 0)
    markers = _comment_markers(lines)
    comments = laid_out_column(*native.comment_docs(lines.data, *int64_columns(lines.first, lines.text_ends, markers,
                                                                                tops, bottoms)))
    docs = pc.if_else(pc.greater(pc.binary_length(docstrings), 0), docstrings, comments)
    return pc.utf8_slice_codeunits(as_text(docs), 0, limit).cast(pa.string())


def _comment_markers(lines: _Lines) -> np.ndarray:
    """Per line, the length of the first marker (in _COMMENT_MARKERS' order) its text starts with, 0 for none."""
    marker = np.zeros(len(lines.starts), dtype=np.int64)
    for prefix in reversed(_COMMENT_MARKERS):
        marker[lines.starting_with((prefix,))] = len(prefix)
    return marker


class _CommentText:
    """Comment lines without their markers, each line cleaned once (neighbouring definitions share comments)."""

    def __init__(self, lines: _Lines) -> None:
        self.lines, self.cleaned, self.marker = lines, {}, _comment_markers(lines)

    def __getitem__(self, index: int) -> str:
        if index not in self.cleaned:
            lines = self.lines
            text = lines.data[lines.first[index] + self.marker[index]:lines.text_ends[index]]
            self.cleaned[index] = text.decode("utf-8", "replace").strip().removesuffix("*/").strip()
        return self.cleaned[index]


class _FileLines:
    """One file's lines as text, each decoded when first read (a docstring needs a few lines of a long file)."""

    def __init__(self, lines: _Lines, file: int) -> None:
        self.lines, self.first, self.count = lines, int(lines.file_first_line[file]), int(lines.file_lines[file])

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> str:
        return self.lines.text(self.first + index)


def _python_docstring(lines: _FileLines, start: int, end: int) -> str:
    """The docstring of a Python def/class: the first statement of its body when it is a string."""
    stop = min(end, len(lines))
    index = start - 1
    while index < stop and not lines[index].rstrip().endswith(":"):
        index += 1  # skip a multi-line signature
    index += 1
    while index < stop and not lines[index].strip():
        index += 1
    if index >= stop:
        return ""
    first = lines[index]
    match = _DOCSTRING_START.match(first)
    if not match:
        return ""
    quote = match.group(1)
    body = first[match.end():]
    if quote in body:
        return body.split(quote, 1)[0].strip()
    collected = [body]
    for following in range(index + 1, stop):
        line = lines[following]
        if quote in line:
            collected.append(line.split(quote, 1)[0])
            break
        collected.append(line)
    return "\n".join(part.strip() for part in collected).strip()
