"""Peak memory of a process and everything it started, sampled from /proc.

`ru_maxrss` cannot be reset and, for children, counts the parent's memory at the moment a child was forked (a
`git` run at the end of an ingest would report the whole ingest again): so memory is sampled a few times a second
and the peak kept per measured span. For the process alone its resident set (RSS); for it with every descendant
the sum of their proportional sets (PSS), which counts a page that several share (the libraries every worker maps)
once in all instead of once per process.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE")


def _resident(pid: int) -> int:
    try:
        return int((Path("/proc") / str(pid) / "statm").read_text().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0  # the process ended while being read


def _proportional(pid: int) -> int:
    try:
        for line in (Path("/proc") / str(pid) / "smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    """Direct children of a process (from every one of its threads' lists)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _tree_rss(root: int) -> tuple[int, int]:
    """(RSS of `root` alone, PSS of `root` and all its descendants together) in bytes."""
    family, frontier = {root}, [root]
    while frontier:
        children = [child for child in _children(frontier.pop()) if child not in family]
        family.update(children)
        frontier.extend(children)
    return _resident(root), sum(_proportional(pid) for pid in family)


class PeakRss:
    """While active: the highest memory seen, of a process (RSS; this one unless `pid` is given) and of it with all
    its descendants (PSS)."""

    def __init__(self, interval_s: float = 0.2, pid: int | None = None) -> None:
        self.interval_s, self.pid = interval_s, os.getpid() if pid is None else pid
        self.own = self.total = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.is_set():
            own, total = _tree_rss(self.pid)
            self.own, self.total = max(self.own, own), max(self.total, total)
            time.sleep(self.interval_s)

    def mib(self) -> dict[str, float]:
        """The peaks in MiB."""
        return {"own_mib": self.own / 2**20, "total_mib": self.total / 2**20}


class NoSampling:
    """PeakRss's stand-in for a timed run: nothing sampled (the sampler's reads of /proc take CPU), peaks of 0."""

    def __enter__(self) -> "NoSampling":
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def mib(self) -> dict[str, float]:
        """No peaks: 0 MiB."""
        return {"own_mib": 0.0, "total_mib": 0.0}
