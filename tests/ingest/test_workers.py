"""The ingest's worker pool starts light: pyarrow in a worker never loads pandas."""

from __future__ import annotations

import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor

import pyarrow as pa
import pytest

from forklift_core.ingest.workers import make_pool
from tests.conftest import POLYGLOT


def _pandas_loaded_by_arrow() -> bool:
    """In a worker: whether building an Arrow array from a list loaded pandas."""
    assert pa.array(["a", "b"]).to_pylist() == ["a", "b"]
    return sys.modules.get("pandas") is not None


def test_a_worker_builds_arrow_arrays_without_loading_pandas() -> None:
    pytest.importorskip("pandas")
    plain = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    with plain:  # the premise: a plain spawned process does load it (0.3 s of every worker's start)
        assert plain.submit(_pandas_loaded_by_arrow).result() is True
    with make_pool(1) as pool:
        assert pool.submit(_pandas_loaded_by_arrow).result() is False


def _arrow_pool() -> str:
    """In a worker: the allocator behind Arrow's default pool."""
    return pa.default_memory_pool().backend_name


def test_workers_and_the_ingest_allocate_arrow_memory_with_jemalloc(workspace) -> None:
    from forklift_core.ingest.index import ingest

    if "jemalloc" not in pa.supported_memory_backends():
        pytest.skip("pyarrow was built without jemalloc")
    with make_pool(1) as pool:
        assert pool.submit(_arrow_pool).result() == "jemalloc"
    pa.set_memory_pool(pa.system_memory_pool())  # as if nothing had set it yet
    ingest(str(POLYGLOT), "p", workspace)
    assert pa.default_memory_pool().backend_name == "jemalloc"
