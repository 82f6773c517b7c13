"""Files read once per task straight into one buffer, and byte buffers into Arrow text columns without a Python
string per row.

A task's files are read end to end into one buffer (`read_laid_out`): the scans take it as it is, and enrichment
finds every line and snippet in it by offsets. `native.byte_ranges` turns many (start, stop) ranges of such a buffer
into one column, and `as_text` decodes it as UTF-8 the way Python would.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import pyarrow as pa

# After the last file: a blank line, then zero bytes, so a reader can look this many bytes past the start of any
# line without a bounds check.
TAIL_PAD = 3
_TAIL = b"\n" + b"\0" * TAIL_PAD
# How a file the walk vetted is opened for reading: O_NOFOLLOW, so a file swapped for a symlink since is not followed.
READ_NO_FOLLOW = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)


@dataclass
class LaidOut:
    """Files laid end to end in one buffer, each ending in a newline (one is added where a file has none: its last
    line is still a line, and no line runs into the next file's), then a blank line and TAIL_PAD zero bytes."""

    data: bytearray
    paths: list[str]  # the files read, in the order asked for (a file gone since the walk is left out)
    ends: np.ndarray  # int64: where each file's bytes end in `data`

    @property
    def size(self) -> int:
        """Bytes of the files (the blank line and padding after them not counted)."""
        return int(self.ends[-1]) if len(self.ends) else 0

    @property
    def starts(self) -> np.ndarray:
        """Where each file's bytes start in `data`."""
        return np.concatenate([[0], self.ends[:-1]]).astype(np.int64)[:len(self.ends)]

    def texts(self) -> Iterator[tuple[str, bytes]]:
        """(path, bytes) of each file, as laid out."""
        for path, start, end in zip(self.paths, self.starts.tolist(), self.ends.tolist()):
            yield path, bytes(self.data[start:end])

    def only(self, keep: Sequence[bool]) -> "LaidOut":
        """The files where `keep` holds, laid out afresh (this one itself when every file is kept)."""
        if all(keep):
            return self
        picked = [index for index, kept in enumerate(keep) if kept]
        starts, ends = self.starts[picked], self.ends[picked]
        data = bytearray(b"".join(memoryview(self.data)[start:end] for start, end in zip(starts.tolist(),
                                                                                          ends.tolist())) + _TAIL)
        return LaidOut(data, [self.paths[index] for index in picked], np.cumsum(ends - starts, dtype=np.int64))


def read_laid_out(root: str | Path, paths: Sequence[str]) -> LaidOut:
    """The listed files read straight into one buffer: sized from each file's stat, so no file's bytes are copied
    twice (a read per file and then a join cost a kernel's C scan a third of its time in allocating and copying).
    A file gone since the walk is left out; one that grew since its stat is read up to its stat size."""
    folder = os.fspath(root)
    sizes: list[tuple[str, int]] = []
    for path in paths:
        try:
            sizes.append((path, os.stat(os.path.join(folder, path)).st_size))
        except OSError:
            continue
    data = bytearray(sum(size + 1 for _, size in sizes) + len(_TAIL))
    view, at, kept, ends = memoryview(data), 0, [], []
    for path, size in sizes:
        try:
            fd = os.open(os.path.join(folder, path), READ_NO_FOLLOW)
        except OSError:
            continue
        try:
            read = _read_into(fd, view[at:at + size])
        except OSError:
            continue
        finally:
            os.close(fd)
        if read and data[at + read - 1] != 10:
            data[at + read] = 10
            read += 1
        at += read
        kept.append(path)
        ends.append(at)
    view.release()
    data[at:at + len(_TAIL)] = _TAIL
    if len(data) > at + len(_TAIL):  # a file that shrank since its stat (or is gone) leaves no gap
        del data[at + len(_TAIL):]
    return LaidOut(data, kept, np.array(ends, dtype=np.int64))


def _read_into(fd: int, target: memoryview) -> int:
    """Bytes read from `fd` into `target`, until it is full or the file ends."""
    done = 0
    while done < len(target):
        count = os.readv(fd, [target[done:]])
        if not count:
            break
        done += count
    return done


def as_text(column: pa.Array) -> pa.Array:
    """A binary column as large_string; bytes that are not UTF-8 become U+FFFD, as `bytes.decode(errors="replace")`
    makes them."""
    try:
        return column.cast(pa.large_string())
    except pa.ArrowInvalid:  # some row is not UTF-8: only then each row is decoded in Python
        return pa.array([None if value is None else value.decode("utf-8", "replace") for value in column.to_pylist()],
                        pa.large_string())
