"""Job start benchmark: seconds from launching a local run to its first training step, spawned cold or forked warm.

Run with `.venv/bin/python bench/job_start.py`. The same one-step SFT plan of the embedded SmolLM2 on the example
project is launched `--runs` times with FORKLIFT_WARM_JOBS=0 (each job imports the training stack itself), then
`--runs` + 1 times warm: the first warm launch starts the job server (it imports the stack once), the later ones
are forked from it. Prints each figure and the ratio of the medians; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from forklift_core.config import TrainPlan
from forklift_core.example import EXAMPLE_PROJECT, ensure_example_project
from forklift_core.train.job_server import WARM_SWITCH, stop_servers
from forklift_core.train.launch import LocalLauncher
from forklift_core.workspace import Workspace


def first_step_seconds(launcher: LocalLauncher, plan: TrainPlan) -> tuple[float, float]:
    """Launch a prepared run; seconds until its first logged step, and until it finished."""
    run_id = launcher.prepare(plan)
    started = time.perf_counter()
    launcher.launch(run_id)
    first = None
    while True:
        status = launcher.poll(run_id)
        if first is None and any("loss" in record for record in status.progress):
            first = time.perf_counter() - started
        if status.finished:
            if status.status != "completed":
                raise SystemExit(f"run {run_id} ended {status.status}: {launcher.logs(run_id)}")
            return first if first is not None else time.perf_counter() - started, time.perf_counter() - started
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    plan = TrainPlan(method="sft", sft_max_steps=1, batch_size=1, gradient_accumulation=1, eval_rows=1,
                     tensorboard=False, pairs="accepted+pending")
    with tempfile.TemporaryDirectory() as scratch:
        workspace = Workspace(Path(scratch) / "ws")
        ensure_example_project(workspace)
        launcher = LocalLauncher(workspace, EXAMPLE_PROJECT)
        os.environ[WARM_SWITCH] = "0"
        cold = [first_step_seconds(launcher, plan) for _ in range(args.runs)]
        os.environ[WARM_SWITCH] = "1"
        server_start = first_step_seconds(launcher, plan)
        warm = [first_step_seconds(launcher, plan) for _ in range(args.runs)]
        stop_servers()
    for label, figures in (("cold (spawned)", cold), ("warm (forked)", warm)):
        print(f"{label:>15}: first step after " + ", ".join(f"{f:.1f}" for f, _ in figures) + " s; finished after "
              + ", ".join(f"{t:.1f}" for _, t in figures) + " s")
    print(f"{'server start':>15}: first step after {server_start[0]:.1f} s (the launch that starts the server)")
    ratio = statistics.median(f for f, _ in warm) / statistics.median(f for f, _ in cold)
    print(f"warm / cold seconds to the first step (medians): {ratio:.2f}x")


if __name__ == "__main__":
    main()
