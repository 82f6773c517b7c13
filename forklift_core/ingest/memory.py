"""Memory an ingest hands back: the allocator Arrow uses, and freed memory returned to the system between tasks."""

from __future__ import annotations

import ctypes

import pyarrow as pa


def use_lean_allocator() -> None:
    """Arrow's jemalloc pool for this process, where pyarrow was built with it.

    The default (mimalloc) keeps the pages an ingest's scratch frees: on a kernel tree the main process then peaked
    at 771 MiB RSS (1,042 with its workers) where jemalloc peaked at 612 (831), at the same speed.
    """
    try:
        pa.set_memory_pool(pa.jemalloc_memory_pool())
    except NotImplementedError:  # built without it: the default pool stays
        pass


def release_memory() -> None:
    """Hand what a finished task freed back to the system (Arrow's pool and the C heap both keep freed memory for
    reuse), so a worker between tasks holds little more than its interpreter."""
    pa.default_memory_pool().release_unused()
    try:
        ctypes.CDLL(None).malloc_trim(0)  # glibc's; elsewhere the heap keeps what it keeps
    except (AttributeError, OSError):
        pass
