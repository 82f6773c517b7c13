"""The native helpers (`_native.c`), or None where the extension was not built (callers keep a Python way), and
the glue both native scans share: files laid end to end in, name-use columns out."""

from __future__ import annotations

from types import ModuleType
from typing import Sequence

import numpy as np
import pyarrow as pa

from forklift_core.ingest.buffers import as_text
from forklift_core.ingest.incremental import USES_SCHEMA

native: ModuleType | None
try:
    from forklift_core.ingest import _native as native
except ImportError:  # built by `pip install` (setuptools ext-modules); absent on a bare checkout
    native = None


def native_available() -> bool:
    """True when the native helpers were built."""
    return native is not None


def laid_end_to_end(texts: Sequence[bytes]) -> tuple[bytes, bytes]:
    """(the files' bytes laid end to end, each one's end offset as int64 bytes), as the native scans read them."""
    return b"".join(texts), np.cumsum([len(text) for text in texts], dtype=np.int64).tobytes()


def int64_columns(*columns: np.ndarray) -> list[np.ndarray]:
    """Columns as contiguous int64 arrays, as the native helpers read them."""
    return [np.ascontiguousarray(column, dtype=np.int64) for column in columns]


def laid_out_column(ends: bytes, data: bytes) -> pa.LargeBinaryArray:
    """Byte strings laid end to end in `data` (each one's end offset in `ends`, int64) as one binary column."""
    offsets = np.concatenate([[0], np.frombuffer(ends, np.int64)])
    return pa.Array.from_buffers(pa.large_binary(), len(offsets) - 1, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def uses_columns(paths: list[str], files: bytes, lines: bytes, kinds: bytes, name_ends: bytes,
                 names: bytes) -> pa.Table:
    """A native scan's output (each use's file, line, kind: uint8 0 call or 1 use, name end; the names) as
    name-use rows (USES_SCHEMA)."""
    count = len(lines) // 8
    if not count:
        return USES_SCHEMA.empty_table()
    # Names are copied from the source as bytes: decoded as Python would (a byte that is not UTF-8 becomes U+FFFD).
    name_column = as_text(laid_out_column(name_ends, names))
    return pa.table({"path": pa.DictionaryArray.from_arrays(pa.array(np.frombuffer(files, np.int32)),
                                                           pa.array(paths, pa.string())),
                     "line": pa.array(np.frombuffer(lines, np.int64)),
                     "name": name_column.cast(pa.string()),
                     "kind": pa.DictionaryArray.from_arrays(pa.array(np.frombuffer(kinds, np.uint8).astype(np.int32)),
                                                            pa.array(["call", "use"]))},
                    schema=USES_SCHEMA)
