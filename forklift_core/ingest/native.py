"""The native helpers (`_native.c`), or None where the extension was not built (callers keep a Python way), and
the glue the native helpers share: int64 columns in, binary and name-use columns out."""

from __future__ import annotations

from types import ModuleType

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


def int64_columns(*columns: np.ndarray) -> list[np.ndarray]:
    """Columns as contiguous int64 arrays, as the native helpers read them."""
    return [np.ascontiguousarray(column, dtype=np.int64) for column in columns]


def laid_out_column(ends: bytes, data: bytes) -> pa.LargeBinaryArray:
    """Byte strings laid end to end in `data` (each one's end offset in `ends`, int64) as one binary column."""
    return _binary_column(np.concatenate([[0], np.frombuffer(ends, np.int64)]), data)


def _binary_column(offsets: np.ndarray, data: bytes | bytearray) -> pa.LargeBinaryArray:
    """A binary column over `data`, string i being data[offsets[i]:offsets[i + 1]] (int64 offsets), no copy."""
    return pa.Array.from_buffers(pa.large_binary(), len(offsets) - 1, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def byte_ranges(buffer: bytes, starts: np.ndarray, stops: np.ndarray) -> pa.LargeBinaryArray:
    """The bytes `buffer[start:stop]` of each range as one binary column (ranges may overlap, in any order; a stop
    before its start is an empty range)."""
    starts, stops = int64_columns(starts, stops)
    stops = np.maximum(stops, starts)
    offsets = np.zeros(len(starts) + 1, dtype=np.int64)
    np.cumsum(stops - starts, out=offsets[1:])
    if native is not None:  # one copy in native code: the slices below were a tenth of a kernel chunk's enrichment
        data = native.join_ranges(buffer, starts, stops)
    else:  # slices of a memoryview copy nothing; one join copies each range once (a numpy gather's index array
        # would be eight bytes for every byte copied)
        view = memoryview(buffer)
        data = b"".join([view[start:stop] for start, stop in zip(starts.tolist(), stops.tolist())])
    return _binary_column(offsets, data)


def string_buffers(values: pa.Array) -> tuple[pa.Buffer | bytes, np.ndarray]:
    """(the bytes, each string's int64 offsets into them: one more than the strings) of a string or binary array,
    without a copy of its bytes."""
    _, offsets, data = values.buffers()[:3]
    wide = pa.types.is_large_string(values.type) or pa.types.is_large_binary(values.type)
    marks = np.frombuffer(offsets, np.int64 if wide else np.int32)[values.offset:values.offset + len(values) + 1]
    return (data if data is not None else b""), np.ascontiguousarray(marks, dtype=np.int64)


def string_hashes(values: pa.Array) -> np.ndarray:
    """A 64-bit hash (uint64) of each string's bytes, in native code (`native` must be built)."""
    return np.frombuffer(native.string_hashes(*string_buffers(values)), np.uint64)  # type: ignore[union-attr]


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
