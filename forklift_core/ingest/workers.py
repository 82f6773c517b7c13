"""The ingest's worker processes: a spawned pool whose workers start light."""

from __future__ import annotations

import importlib.abc
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from typing import Any


class _WithoutPandas(importlib.abc.MetaPathFinder):
    """Refuses to import pandas: pyarrow imports it on its first `pa.array` call only to ask whether the input is a
    pandas object (0.3 s per worker here), and no worker ever hands it one."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> None:
        """An ImportError for pandas, so pyarrow notes it as absent; nothing for every other module."""
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError("pandas is not loaded in ingest workers")
        return None


def _start_worker() -> None:
    """Run first in each worker, before any task is unpickled."""
    if "pandas" not in sys.modules:
        sys.meta_path.insert(0, _WithoutPandas())


def make_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of spawned worker processes (parsing holds the GIL; spawn, not fork: the app's threads and locks
    are not copied into them)."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start_worker)
