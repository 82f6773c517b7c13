"""Ingest benchmark: ForkLift's full ingest of the installed transformers source against bare ctags, in one run.

Run with `make bench` or `.venv/bin/python bench/ingest.py [TREE]`. Prints wall times, the ratio to bare
`ctags -R --output-format=json`, peak RSS and symbols/s. Nothing here is asserted: the figures go in the README.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_CHILD = r"""
import json, resource, sys, time
from forklift_core.config import IngestConfig
from forklift_core.ingest.index import ingest
from forklift_core.workspace import Workspace
source, workspace, shards, references = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
started = time.perf_counter()
summary = ingest(source, "bench", Workspace(__import__("pathlib").Path(workspace)),
                 IngestConfig(shards=shards, references=references))
summary["wall"] = time.perf_counter() - started
summary["rss_self_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
summary["rss_children_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps(summary))
"""


def default_tree() -> Path:
    """The installed transformers package: a large real tree nobody here wrote."""
    import transformers

    return Path(transformers.__file__).parent


def bare_ctags(tree: Path) -> tuple[float, int, float]:
    """(seconds, tags, peak RSS MiB) of plain recursive ctags with JSON output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    out = subprocess.run(["ctags", "-R", "--output-format=json", "-f", "-", str(tree)], capture_output=True, check=True)
    seconds = time.perf_counter() - started
    rss = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024
    return seconds, out.stdout.count(b"\n"), rss


def forklift_ingest(tree: Path, shards: int, references: bool) -> dict:
    """Run one ingest in a fresh process (fair start, own peak RSS)."""
    with tempfile.TemporaryDirectory() as workspace:
        out = subprocess.run([sys.executable, "-c", _CHILD, str(tree), workspace, str(shards), "1" if references else "0"],
                             capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("tree", nargs="?", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each variant; the best is reported")
    args = parser.parse_args()
    tree = args.tree or default_tree()
    cores = os.cpu_count() or 1
    print(f"tree: {tree}\ncores: {cores}")
    ctags_runs = [bare_ctags(tree) for _ in range(args.repeat)]
    ctags_seconds, ctags_tags, ctags_rss = min(ctags_runs)
    print(f"\nbare ctags -R --output-format=json: {ctags_seconds:.2f} s, {ctags_tags} tags, "
          f"peak RSS {ctags_rss:.0f} MiB")
    variants = [(f"full ingest, {cores} shards", cores, True), ("full ingest, 1 shard", 1, True),
                (f"symbols only (no references), {cores} shards", cores, False)]
    print(f"\n{'variant':44} {'wall s':>7} {'x ctags':>8} {'symbols':>8} {'sym/s':>8} {'refs':>7} "
          f"{'RSS MiB':>8}  stages")
    for label, shards, references in variants:
        best = min((forklift_ingest(tree, shards, references) for _ in range(args.repeat)), key=lambda s: s["wall"])
        rss = max(best["rss_self_mb"], best["rss_children_mb"])
        stages = " ".join(f"{k}={v:.2f}" for k, v in best["stage_seconds"].items())
        print(f"{label:44} {best['wall']:7.2f} {best['wall'] / ctags_seconds:8.2f} {best['symbols']:8d} "
              f"{best['symbols'] / best['wall']:8.0f} {best['references']:7d} {rss:8.0f}  {stages}")


if __name__ == "__main__":
    main()
