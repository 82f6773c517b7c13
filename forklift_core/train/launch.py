"""Launchers run the training job and report on it: start, poll, cancel, logs. LocalLauncher runs a local process."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from forklift_core.config import TrainPlan
from forklift_core.curate.export import DEFAULT_STATUSES, UNREVIEWED, export_dataset, sft_row
from forklift_core.curate.store import CurationStore
from forklift_core.errors import BadInputError, NotFoundError
from forklift_core.ingest.tables import IndexReader
from forklift_core.models import resolve_lm
from forklift_core.train.curriculum import Curriculum, load_fact_infos, plan_curriculum, write_curriculum
from forklift_core.train.estimate import dataset_stats, fit_to_budget, parameter_count, rows_in_budget
from forklift_core.train.job_server import start_job, warm_up
from forklift_core.train.recipe import JOB_SCRIPT, job_module
from forklift_core.workspace import ProjectPaths, Workspace, timestamped_id, write_json_atomic


@dataclass(frozen=True)
class RunStatus:
    """Where a run stands, read from its folder."""

    run_id: str
    status: str  # preparing | running | completed | cancelled | diverged | failed
    run_dir: Path
    manifest: dict[str, Any]
    progress: list[dict[str, Any]]

    @property
    def finished(self) -> bool:
        return self.status not in ("preparing", "running")


class Launcher(Protocol):
    """One interface for every backend (local process, HF Jobs, a GPU Space, AutoTrain)."""

    def start(self, plan: TrainPlan) -> str: ...
    def poll(self, run_id: str) -> RunStatus: ...
    def cancel(self, run_id: str) -> None: ...
    def logs(self, run_id: str) -> str: ...


TRAIN_DATA = "curriculum"  # the run's folder holding what the job trains on, beside the full export in dataset/


def _job_environment() -> dict[str, str]:
    """The job's environment: fewer malloc arenas, so freed logits buffers return to the system (lower peak RSS)."""
    return {**os.environ, "MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX", "2")}


def warm_up_local_jobs() -> None:
    """Have the job server import the training stack now, in the background (the Train tab asks when opened)."""
    warm_up(JOB_SCRIPT, _job_environment())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:  # a finished child not yet reaped is a zombie: not alive for our purposes
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def read_manifest(run_dir: Path) -> dict[str, Any]:
    """The run's manifest.json ({} before the job wrote one)."""
    path = run_dir / "manifest.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def read_progress(run_dir: Path) -> list[dict[str, Any]]:
    """Every progress record the job appended so far."""
    path = run_dir / "progress.jsonl"
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue  # a line being written right now
    return records


class LocalLauncher:
    """Runs train/job.py in its own process group, so it outlives the browser and the app that started it."""

    def __init__(self, workspace: Workspace, project: str) -> None:
        self.workspace = workspace
        self.paths: ProjectPaths = workspace.project(project)
        self._children: dict[str, subprocess.Popen[bytes]] = {}  # reaped by poll(), so no zombie is left

    def run_dir(self, run_id: str) -> Path:
        folder = self.paths.runs_dir / run_id
        if not folder.is_dir():
            raise NotFoundError(f"no run {run_id!r} in project {self.paths.name!r}")
        return folder

    def prepare(self, plan: TrainPlan) -> str:
        """A new run folder with its dataset exported from the curated pairs and plan.yaml."""
        run_id = timestamped_id()
        folder = self.paths.runs_dir / run_id
        folder.mkdir(parents=True)
        statuses = DEFAULT_STATUSES + (UNREVIEWED if plan.pairs == "accepted+pending" else ())
        export_dataset(self.paths, folder / "dataset", "hf", statuses)
        resolved = resolve_lm(plan.base_model, self.workspace.models_dir)
        parameters, cuda = parameter_count(resolved.location), job_module()._cuda()
        curriculum = self._curriculum(plan, folder, parameters, cuda)
        if curriculum is not None and plan.sft_max_steps == -1:
            # The curriculum is sized to the budget already; its steps run until the job's clock says stop.
            rows = dataset_stats(folder / TRAIN_DATA).sft_rows
            fitted = replace(plan, sft_max_steps=math.ceil(rows / (plan.batch_size * plan.gradient_accumulation)))
        else:
            fitted = fit_to_budget(plan, dataset_stats(folder / ("dataset" if curriculum is None else TRAIN_DATA)),
                                   parameters, cuda=cuda)
        (folder / "plan.yaml").write_text(replace(fitted, base_model_path=resolved.location).to_yaml())
        capped = {f"{s}_max_steps": getattr(fitted, f"{s}_max_steps") for s in ("sft", "dpo")
                  if getattr(fitted, f"{s}_max_steps") != getattr(plan, f"{s}_max_steps")}
        write_json_atomic(folder / "manifest.json", {
            "status": "preparing", "run_id": run_id, "base_model_origin": resolved.origin,
            "capped_to_time_budget": capped, "train_dataset": TRAIN_DATA if curriculum else "dataset",
            "curriculum": curriculum.to_dict() if curriculum else None})
        return run_id

    def _curriculum(self, plan: TrainPlan, folder: Path, parameters: int, cuda: bool) -> Curriculum | None:
        """The knowledge-first selection of the exported SFT rows that the time budget covers (None: all rows)."""
        if not (plan.curriculum and "sft" in plan.method and (folder / "dataset" / "sft").is_dir()):
            return None
        facts, rows_for, symbols = self._curriculum_inputs(plan, parameters, cuda)
        return write_curriculum(folder / "dataset", folder / TRAIN_DATA, facts, rows_for, plan.phrasings_per_fact,
                                plan.passes, plan.seed, plan.max_row_tokens, symbols=symbols)

    def _curriculum_inputs(self, plan: TrainPlan, parameters: int, cuda: bool) -> tuple[list[Any], Any, list[Any]]:
        """The facts, the budget in rows of a given length, and the index symbols a curriculum is planned from."""
        share = job_module().SFT_TIME_SHARE if "dpo" in plan.method else 1.0
        facts = load_fact_infos(self.paths.curation_db, self.paths)
        symbols = IndexReader(self.paths).symbols() if plan.grounded_rows else []
        return facts, lambda tokens: rows_in_budget(plan, parameters, tokens, cuda, share), symbols

    def preview(self, plan: TrainPlan) -> Curriculum | None:
        """What a run of this plan would cover, before anything is exported (the Train tab says it before launch)."""
        if not (plan.curriculum and "sft" in plan.method):
            return None
        statuses = DEFAULT_STATUSES + (UNREVIEWED if plan.pairs == "accepted+pending" else ())
        rows = [sft_row(p) for p in CurationStore(self.paths.curation_db).pairs(kind="sft", statuses=statuses,
                                                                                  split="train")]
        if not rows:
            return None
        resolved = resolve_lm(plan.base_model, self.workspace.models_dir)
        facts, rows_for, symbols = self._curriculum_inputs(plan, parameter_count(resolved.location),
                                                           job_module()._cuda())
        return plan_curriculum(rows, facts, rows_for, plan.phrasings_per_fact, plan.passes, plan.seed,
                               plan.max_row_tokens, symbols)[0]

    def start(self, plan: TrainPlan) -> str:
        """Prepare a run and start the job; returns the run id at once."""
        run_id = self.prepare(plan)
        self.launch(run_id)
        return run_id

    def launch(self, run_id: str) -> None:
        """Start (or restart, to resume from the last checkpoint) the job of a prepared run."""
        folder = self.run_dir(run_id)
        status = self.poll(run_id)
        if status.status == "running":
            raise BadInputError(f"run {run_id} is already running")
        if status.status == "completed":
            raise BadInputError(f"run {run_id} already completed")
        # Marked running before the job starts, so a poll in between never reads the previous run's end state.
        write_json_atomic(folder / "manifest.json", {**read_manifest(folder), "status": "running"})
        data = read_manifest(folder).get("train_dataset") or "dataset"
        job = start_job(JOB_SCRIPT, ["--plan", str(folder / "plan.yaml"), "--dataset", str(folder / data),
                                     "--run-dir", str(folder)], folder / "job.log", _job_environment())
        write_json_atomic(folder / "launch.json", {"pid": job.pid, "started_at": time.time(), "warm": job.warm})
        if job.process is not None:
            self._children[run_id] = job.process

    def poll(self, run_id: str) -> RunStatus:
        """The run's status from its manifest; a 'running' job whose process is gone is reported as failed."""
        folder = self.run_dir(run_id)
        child = self._children.get(run_id)
        if child is not None:
            child.poll()
        manifest = read_manifest(folder)
        status = manifest.get("status", "preparing")
        launch = folder / "launch.json"
        if status in ("running", "preparing") and launch.is_file():
            pid = json.loads(launch.read_text())["pid"]
            if not _alive(pid) and status == "running":
                status = "failed"
        return RunStatus(run_id, status, folder, manifest, read_progress(folder))

    def cancel(self, run_id: str) -> None:
        """Ask the job to stop: it saves a checkpoint and exits; `launch` resumes it later."""
        launch = self.run_dir(run_id) / "launch.json"
        if not launch.is_file():
            raise BadInputError(f"run {run_id} was never started")
        pid = json.loads(launch.read_text())["pid"]
        if _alive(pid):
            os.kill(pid, signal.SIGTERM)

    def logs(self, run_id: str, tail: int = 200) -> str:
        """The last lines the job printed."""
        path = self.run_dir(run_id) / "job.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-tail:]) if path.is_file() else ""

    def runs(self) -> list[RunStatus]:
        """Every run of the project, newest first (also those started by an earlier app or CLI process)."""
        if not self.paths.runs_dir.is_dir():
            return []
        return [self.poll(p.name) for p in sorted(self.paths.runs_dir.iterdir(), reverse=True) if p.is_dir()]

    def latest_completed(self) -> str:
        """The newest run that finished with an adapter."""
        for status in self.runs():
            if status.status == "completed" and (status.run_dir / "adapter" / "adapter_config.json").is_file():
                return status.run_id
        raise NotFoundError(f"project {self.paths.name!r} has no completed run yet: run `forklift train` first")

    def wait(self, run_id: str, on_update: Any = None, interval: float = 1.0) -> RunStatus:
        """Poll until the run finishes, calling on_update(status) each time."""
        return wait_until_finished(self, run_id, on_update, interval)


def wait_until_finished(launcher: Launcher, run_id: str, on_update: Any = None, interval: float = 1.0) -> RunStatus:
    """Poll any launcher until the run finishes, calling on_update(status) each time."""
    while True:
        status = launcher.poll(run_id)
        if on_update is not None:
            on_update(status)
        if status.finished:
            return status
        time.sleep(interval)
