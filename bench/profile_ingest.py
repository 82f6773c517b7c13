"""Where an ingest's time goes: a one-shard ingest (every task in this process) under cProfile, top lines printed.

Run with `.venv/bin/python bench/profile_ingest.py [--tree kernel|python|PATH] [--lines 30]`. Nothing is asserted;
the README's Figures section quotes the top lines.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import python_tree  # noqa: E402
from repos import kernel_tree  # noqa: E402

from forklift_core.config import IngestConfig  # noqa: E402
from forklift_core.ingest.index import ingest  # noqa: E402
from forklift_core.ingest.workers import without_pandas  # noqa: E402
from forklift_core.workspace import Workspace  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tree", default="kernel", help="kernel, python or a folder")
    parser.add_argument("--lines", type=int, default=30, help="how many lines of the profile to print")
    args = parser.parse_args()
    without_pandas()  # as the `forklift ingest` command and its workers run: no pandas probe in the profile
    tree = {"kernel": kernel_tree, "python": python_tree}.get(args.tree, lambda: Path(args.tree))()
    with tempfile.TemporaryDirectory() as workspace:
        profile = cProfile.Profile()
        profile.enable()
        summary = ingest(str(tree), "profiled", Workspace(Path(workspace)), IngestConfig(shards=1))
        profile.disable()
    print(f"{tree}: {summary['seconds']:.1f} s under the profiler, stages {summary['stage_seconds']}")
    # ForkLift's own functions and the tool runs, by cumulative time.
    pstats.Stats(profile).sort_stats("cumulative").print_stats(r"forklift_core|subprocess.py:\d+\(run\)", args.lines)


if __name__ == "__main__":
    main()
