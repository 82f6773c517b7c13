"""cscope for C references: one database build per shard, its cross-reference file read on whole columns.

cscope's own lexer already marks every function call (and skips comments and strings), so reading its database
gives a C tree's call sites for about half the price of bare ctags, where a tree-sitter parse costs three times it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Collection, Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from forklift_core.errors import ToolError
from forklift_core.ingest.buffers import as_text
from forklift_core.ingest.ctags import memory_cap
from forklift_core.ingest.incremental import USES_SCHEMA
from forklift_core.ingest.tables import as_numpy

# cscope's file list cannot quote every name, and a line starting with '-' is read as an option: both left out.
_SAFE_PATH = re.compile(r"^[^\s\"'\\-][^\s\"'\\]*$")
# Text just before a name that makes the name a type: `struct page *p`, `sizeof(union u)`, `enum e x`.
_TAG_KEYWORDS = (b"struct ", b"union ", b"enum ")
PARSE_PIECE_BYTES = 2 << 20


def cscope_available() -> bool:
    """True when the cscope binary is installed."""
    return shutil.which("cscope") is not None


@lru_cache(maxsize=1)
def cscope_version() -> str:
    """cscope's version line ('' when absent)."""
    if not cscope_available():
        return ""
    try:
        found = subprocess.run(["cscope", "-V"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (found.stderr or found.stdout).strip().splitlines()[0] if (found.stderr or found.stdout).strip() else ""


def cscope_safe(path: str) -> bool:
    """True when cscope's file list can hold the name as it is."""
    return bool(_SAFE_PATH.fullmatch(path))


def _last_mark(is_mark: np.ndarray) -> np.ndarray:
    """For each line: the ordinal of the last marked line at or before it (-1 before the first)."""
    return np.cumsum(is_mark, dtype=np.int64) - 1


def _lines(database: bytes) -> pa.LargeBinaryArray:
    """The database's lines over its own bytes (no copy), each with its newline; the piece after the last newline
    is the last line, as a split would give it."""
    newlines = np.flatnonzero(np.frombuffer(database, dtype=np.uint8) == ord("\n"))
    offsets = np.concatenate([[0], newlines + 1, [len(database)]]).astype(np.int64)
    return pa.Array.from_buffers(pa.large_binary(), len(offsets) - 1, [None, pa.py_buffer(offsets),
                                                                       pa.py_buffer(database)])


def _names(lines: pa.Array, skip: int) -> pa.Array:
    """Symbol lines' names: the first `skip` bytes (a mark) and the newline left out."""
    return pc.binary_slice(lines, skip, -1)


def _file_pieces(database: bytes, target: int = PARSE_PIECE_BYTES) -> Iterator[bytes]:
    """The database in pieces of about `target` bytes, each cut where a file's section begins (a piece parses on
    its own): a shard's parse then needs the memory of a piece, not of the whole database."""
    begin = 0
    while begin < len(database):
        cut = database.find(b"\n\t@", begin + target)
        end = len(database) if cut < 0 else cut + 1
        yield database[begin:end]
        begin = end


def parse_cross_reference(database: bytes, type_names: Collection[str] = ()) -> pa.Table:
    """Call sites and type uses from an uncompressed (`-c`) cscope.out, as name-use rows (path, line, name, kind).

    The file is line based: `\\t@path` opens a file; a blank line then `N text` opens source line N, after which
    symbol and text lines alternate. A call is a symbol marked `\\t\\``, or an unmarked one followed by `(` (cscope
    leaves calls unmarked inside code it misreads, such as a macro-made loop); `a->f(x)` and `a.f(x)` are
    field calls, not calls of a function named f. An unmarked symbol is a type use when the text before it ends in
    struct/union/enum, or when its name is one of `type_names` (typedefs). A name at its own declaration is
    dropped later with every definition site. The lines are read over the database's own bytes (any bytes: old C
    has Latin-1 comments); only the names kept are decoded, a byte that is not UTF-8 becoming U+FFFD.
    """
    lines = _lines(database)
    size = len(lines)
    if size < 2:
        return USES_SCHEMA.empty_table()
    head = pc.binary_slice(lines, 0, 2)
    blank = as_numpy(pc.less_equal(pc.binary_length(lines), 1))  # a line holds its newline (the last one none)
    blank[-1] = len(lines[-1].as_py()) == 0
    candidates = np.flatnonzero(np.concatenate([[False], blank[:-1]]) & ~blank)
    numbers = pc.extract_regex(lines.take(candidates), rb"^(?P<n>\d+) ")
    is_number = as_numpy(pc.is_valid(numbers))
    starts = candidates[is_number]
    line_no = as_numpy(pc.cast(pc.cast(pc.struct_field(numbers.filter(is_number), "n"), pa.large_string()), pa.int64()))
    block_start = np.zeros(size, dtype=bool)
    block_start[starts] = True
    block = _last_mark(block_start)
    file_start = as_numpy(pc.equal(head, b"\t@"))
    in_file = _last_mark(file_start)
    file_names = [name.decode("utf-8", "replace") for name in _names(lines.filter(file_start), 2).to_pylist()] or [""]
    offset = np.arange(size) - starts[np.maximum(block, 0)] if len(starts) else np.zeros(size, dtype=np.int64)
    symbol = (block >= 0) & (in_file >= 0) & (offset % 2 == 1) & ~blank

    def text_around(index: np.ndarray, step: int) -> pa.Array:
        return lines.take(np.clip(index + step, 0, size - 1))

    marked_call = symbol & as_numpy(pc.equal(head, b"\t`"))
    unmarked = symbol & ~as_numpy(pc.starts_with(lines, b"\t"))
    plain = np.flatnonzero(unmarked)
    called = as_numpy(pc.starts_with(text_around(plain, 1), b"("))
    calls = np.flatnonzero(marked_call)
    calls = np.sort(np.concatenate([calls, plain[called]]))
    before = text_around(calls, -1)
    on_field = as_numpy(pc.or_(pc.ends_with(before, b"->\n"), pc.ends_with(before, b".\n")))
    calls = calls[~on_field]
    before = text_around(plain, -1)
    typed = np.zeros(len(plain), dtype=bool)
    for keyword in _TAG_KEYWORDS:
        typed |= as_numpy(pc.ends_with(before, keyword + b"\n"))
    if type_names:
        with_newline = pa.array(sorted(name.encode() + b"\n" for name in type_names), pa.large_binary())
        typed |= as_numpy(pc.is_in(lines.take(plain), with_newline))
    uses = plain[typed & ~called]

    index = np.concatenate([calls, uses])
    kinds = np.concatenate([np.zeros(len(calls), dtype=np.int32), np.ones(len(uses), dtype=np.int32)])  # call, use
    order = np.argsort(index, kind="stable")  # the database's order: file by file, line by line
    index, kinds = index[order], kinds[order]
    picked = lines.take(index)
    picked = pc.if_else(pc.starts_with(picked, b"\t"), _names(picked, 2), _names(picked, 0))
    return pa.table({"path": pa.DictionaryArray.from_arrays(pa.array(in_file[index], pa.int32()),
                                                           pa.array(file_names, pa.string())),
                     "line": pa.array(line_no[block[index]], pa.int64()),
                     "name": pc.cast(as_text(picked), pa.string()),
                     "kind": pa.DictionaryArray.from_arrays(pa.array(kinds, pa.int32()), pa.array(["call", "use"]))},
                    schema=USES_SCHEMA)


def cscope_uses(root: str, c_files: Sequence[str], type_names: Collection[str], timeout_s: int,
                memory_mb: int) -> pa.Table:
    """C call sites and type uses of the listed files, from one cscope database built in a scratch folder."""
    files = [f for f in c_files if cscope_safe(f)]
    if not files:
        return USES_SCHEMA.empty_table()
    with tempfile.TemporaryDirectory(prefix="forklift-cscope-") as scratch:
        listing = Path(scratch) / "files"
        database = Path(scratch) / "cscope.out"
        listing.write_text("\n".join(files) + "\n", encoding="utf-8")
        try:
            # -c: plain text (no digraph compression), -k: no system headers, -b: build only, no -q index.
            build = subprocess.run(["cscope", "-b", "-c", "-k", "-i", str(listing), "-f", str(database)], cwd=root,
                                   timeout=timeout_s, preexec_fn=memory_cap(memory_mb * 1024 * 1024),
                                   capture_output=True)
        except subprocess.TimeoutExpired as exc:
            raise ToolError(f"cscope took longer than {timeout_s}s on {len(files)} files") from exc
        if build.returncode != 0 or not database.is_file():
            raise ToolError(f"cscope could not build its database: {build.stderr.decode(errors='replace')[-200:]}")
        found = [parse_cross_reference(piece, type_names) for piece in _file_pieces(database.read_bytes())]
        return pa.concat_tables(found) if found else USES_SCHEMA.empty_table()
