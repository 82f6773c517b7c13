"""Ingest benchmark: ForkLift's ingest against bare Universal Ctags on the same tree, in one run.

Run with `make bench` or `.venv/bin/python bench/ingest.py [--tree python|kernel|PATH ...]`. Trees: `python` is
the installed transformers package (a large Python tree), `kernel` about 18,800 files of Linux 6.1 from Debian's
linux-source package (fetched into bench/.cache once). For each tree it prints bare `ctags -R` with the fields
ForkLift asks for (one process), ForkLift's full ingest (one shard per core, and one shard), the unchanged re-ingest
and a re-ingest after one file changed, each as a ratio to bare ctags, with peak RSS. Nothing is asserted: the
figures go in the README.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from repos import kernel_tree, linked_copy  # noqa: E402

from forklift_core.ingest.ctags import CTAGS_FIELDS  # noqa: E402

# One process per measured ingest (a fair start and its own peak RSS): the first ingest, then the re-ingests.
_CHILD = r"""
import json, resource, shutil, sys, time
from pathlib import Path
from forklift_core.config import IngestConfig
from forklift_core.ingest.index import ingest
from forklift_core.workspace import Workspace
source, workspace, shards, touch = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
sys.path.insert(0, sys.argv[5])
from repos import add_function
config = IngestConfig(shards=shards)
runs = {}
started = time.perf_counter()
summary = ingest(source, "bench", Workspace(workspace), config)
runs["first"] = {"wall": time.perf_counter() - started, "symbols": summary["symbols"],
                 "references": summary["references"], "stages": summary["stage_seconds"]}
if touch:
    started = time.perf_counter()
    again = ingest(source, "bench", Workspace(workspace), config)
    runs["unchanged"] = {"wall": time.perf_counter() - started, "changes": again["changes"]}
    add_function(Path(source) / touch)  # in the bench's hard-linked copy
    started = time.perf_counter()
    changed = ingest(source, "bench", Workspace(workspace), config)
    runs["one_changed"] = {"wall": time.perf_counter() - started, "stages": changed["stage_seconds"]}
runs["rss_mb"] = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                     resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
print(json.dumps(runs))
"""


def python_tree() -> Path:
    """The installed transformers package: a large real Python tree nobody here wrote."""
    import transformers

    return Path(transformers.__file__).parent


def bare_ctags(tree: Path) -> tuple[float, int, float]:
    """(seconds, tags, peak RSS MiB) of one recursive ctags process with ForkLift's fields and JSON output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    out = subprocess.run(["ctags", "-R", "--output-format=json", f"--fields={CTAGS_FIELDS}", "--extras=-p",
                          "--kinds-C=+p", "--kinds-C++=+p", "-f", "-", "."], cwd=tree, capture_output=True, check=True)
    seconds = time.perf_counter() - started
    rss = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024
    return seconds, out.stdout.count(b"\n"), rss


def forklift_ingest(tree: Path, shards: int, touch: str = "") -> dict:
    """One first ingest (and, with `touch`, the unchanged and one-file-changed re-ingests) in a fresh process,
    on a hard-linked copy of the tree (the one changed file is replaced there, never edited in place)."""
    with linked_copy(tree) as scratch:
        out = subprocess.run([sys.executable, "-c", _CHILD, str(scratch / "tree"), str(scratch / "ws"), str(shards),
                              touch, str(Path(__file__).resolve().parent)], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"the measured ingest failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(label: str, tree: Path, touch: str, repeat: int) -> None:
    cores = os.cpu_count() or 1
    files = sum(1 for p in tree.rglob("*") if p.is_file())
    print(f"\n## {label}: {tree} ({files} files), {cores} cores")
    ctags_seconds, tags, ctags_rss = min(bare_ctags(tree) for _ in range(repeat))
    print(f"bare ctags (one process, same fields): {ctags_seconds:.2f} s, {tags} tags, peak RSS {ctags_rss:.0f} MiB")
    print(f"{'run':44} {'wall s':>7} {'x ctags':>8} {'symbols':>8} {'refs':>8} {'RSS MiB':>8}  stages")
    for name, shards, reingest in ((f"ingest, {cores} shards", cores, True), ("ingest, 1 shard", 1, False)):
        best = min((forklift_ingest(tree, shards, touch if reingest else "") for _ in range(repeat)),
                   key=lambda r: r["first"]["wall"])
        first = best["first"]
        stages = " ".join(f"{k}={v:.1f}" for k, v in first["stages"].items())
        print(f"{name:44} {first['wall']:7.1f} {first['wall'] / ctags_seconds:8.2f} {first['symbols']:8d} "
              f"{first['references']:8d} {best['rss_mb']:8.0f}  {stages}")
        if reingest and touch:  # a folder given by path has no file to change
            for key, text in (("unchanged", "re-ingest, nothing changed"), ("one_changed", "re-ingest, one file changed")):
                run = best[key]
                print(f"{text:44} {run['wall']:7.1f} {run['wall'] / ctags_seconds:8.2f}   "
                      f"{run['wall'] / first['wall']:.2f}x of the first ingest")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tree", action="append", help="python, kernel or a folder (default: python and kernel)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; the best is reported")
    args = parser.parse_args()
    for choice in args.tree or ["python", "kernel"]:
        if choice == "python":
            measure("large Python tree (transformers)", python_tree(), "utils/__init__.py", args.repeat)
        elif choice == "kernel":
            measure("kernel-sized C tree (Linux 6.1 subset)", kernel_tree(), "kernel/fork.c", args.repeat)
        else:
            measure(choice, Path(choice), "", args.repeat)


if __name__ == "__main__":
    main()
