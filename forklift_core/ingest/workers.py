"""The ingest's worker processes: a pool whose workers start light."""

from __future__ import annotations

import importlib.abc
import multiprocessing
import multiprocessing.forkserver
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from forklift_core.ingest.memory import use_lean_allocator


class _WithoutPandas(importlib.abc.MetaPathFinder):
    """Refuses to import pandas: pyarrow imports it on its first `pa.array` call only to ask whether the input is a
    pandas object (0.3-0.4 s of CPU here), and an ingest never hands it one."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> None:
        """An ImportError for pandas, so pyarrow notes it as absent; nothing for every other module."""
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError("pandas is not loaded in a process that only ingests")
        return None


def without_pandas() -> None:
    """For a process that only ingests (a worker, the `forklift ingest` command): pandas is never imported in it.

    Not for a process that goes on to other work: pyarrow, having noted pandas as absent, would no longer know a
    pandas object handed to it. The app has pandas loaded already (Gradio imports it), so it never pays the probe.
    """
    if "pandas" not in sys.modules and not any(isinstance(finder, _WithoutPandas) for finder in sys.meta_path):
        sys.meta_path.insert(0, _WithoutPandas())


def _start_worker() -> None:
    """Run first in each worker, before any task is unpickled."""
    without_pandas()
    use_lean_allocator()


# The workers do no linear algebra: numpy's BLAS threads, started at its import, would only spin beside the tasks
# (a tenth of a CPU-second per process on the Python tree).
_WORKER_ENVIRONMENT = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
# Imported once by the fork server, so each worker forked from it starts with them loaded.
_PRELOAD = ["__main__", "forklift_core.ingest.extraction"]


def make_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of worker processes (parsing holds the GIL), forked from a fork server where there is one, else
    spawned.

    Never forked from this process: the app's threads and locks would be copied into them. The fork server is a
    fresh, single-threaded process that imports Python, Arrow and the extractors once and forks every worker of
    every later ingest from itself: a spawned worker imports them anew, half a second of CPU each here.
    """
    start_fork_server()  # a no-op when it runs
    return ProcessPoolExecutor(max_workers=workers, mp_context=_context(), initializer=_start_worker)


def start_fork_server() -> None:
    """Start the fork server now, without waiting for it (it imports on the core the walk leaves idle), so the
    workers an ingest may need later fork at once. It starts with _WORKER_ENVIRONMENT set; this process's
    environment is left as it was."""
    if _context().get_start_method() != "forkserver":
        return
    saved = {name: os.environ.get(name) for name in _WORKER_ENVIRONMENT}
    os.environ.update(_WORKER_ENVIRONMENT)
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _context() -> Any:
    """The fork server's context (its preload set), or spawn's where there is none."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    return context
