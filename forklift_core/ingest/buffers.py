"""Byte buffers into Arrow text columns without a Python object per row.

Extraction reads whole files and whole cscope databases into one buffer and finds what it wants by offsets; these
helpers turn many (start, stop) ranges of such a buffer into one Arrow column in a few numpy passes.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def byte_ranges(buffer: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> pa.LargeBinaryArray:
    """The bytes `buffer[start:stop]` of each range as one binary column (ranges may overlap, in any order)."""
    lengths = np.maximum(np.asarray(stops, np.int64) - starts, 0)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    # Each output byte comes from its range's start plus its place inside the range.
    source = np.arange(offsets[-1], dtype=np.int64) - np.repeat(offsets[:-1] - starts, lengths)
    data = np.ascontiguousarray(buffer[source])
    return pa.Array.from_buffers(pa.large_binary(), len(lengths), [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def as_text(column: pa.Array) -> pa.Array:
    """A binary column as large_string; bytes that are not UTF-8 become U+FFFD, as `bytes.decode(errors="replace")`
    makes them."""
    try:
        return column.cast(pa.large_string())
    except pa.ArrowInvalid:  # some row is not UTF-8: only then each row is decoded in Python
        return pa.array([None if value is None else value.decode("utf-8", "replace") for value in column.to_pylist()],
                        pa.large_string())
