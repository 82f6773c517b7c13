"""The ingest's worker pool starts light: pyarrow in a worker never loads pandas."""

from __future__ import annotations

import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor

import pyarrow as pa
import pytest

from forklift_core.ingest.workers import make_pool


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
