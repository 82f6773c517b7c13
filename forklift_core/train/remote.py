"""What every remote backend shares: the run prepared here, a private bundle pushed, the remote state mirrored.

A remote run is a local run folder (export, curriculum, plan.yaml: exactly as `LocalLauncher.prepare` makes them)
whose job runs elsewhere. Each backend (HF Jobs, a training Space, AutoTrain) says how to start it, how to read
its state, how to stop it and how to read its logs; the bundle, the manifest, the timeout that is always set and
the results fetched back into the run folder are the same for all of them.
"""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from forklift_core.config import TrainPlan
from forklift_core.errors import BadInputError, NotFoundError
from forklift_core.hub import publish
from forklift_core.hub.client import Hub, hub_errors
from forklift_core.hub.staging import StagedPush, new_push, seal
from forklift_core.train.launch import (TRAIN_DATA, LocalLauncher, RunStatus, read_manifest, read_progress,
                                        wait_until_finished)
from forklift_core.train.recipe import JOB_SCRIPT
from forklift_core.workspace import Workspace, write_json_atomic

REMOTE_ENTRY = Path(__file__).with_name("remote_entry.py")
FLAVORS = {  # hardware flavor (the same names on Jobs and Spaces) -> (what it is, USD per hour when written)
    "cpu-upgrade": ("8 vCPU, 32 GB", 0.03), "t4-small": ("NVIDIA T4 16 GB", 0.40), "t4-medium": ("NVIDIA T4 16 GB", 0.60),
    "l4x1": ("NVIDIA L4 24 GB", 0.80), "a10g-small": ("NVIDIA A10G 24 GB", 1.00), "a10g-large": ("NVIDIA A10G 24 GB", 1.50),
    "a100-large": ("NVIDIA A100 80 GB", 2.50),
}
OVERDUE_GRACE_S = 15 * 60  # past the timeout by this much, the launcher stops the remote side itself
FINAL = ("completed", "failed", "diverged", "cancelled")


def timeout_seconds(timeout: str) -> int:
    """'90m', '2h', '1d' or plain seconds, in seconds; anything else is refused."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd]?)", timeout.strip())
    if not match:
        raise BadInputError("timeout must look like 90m, 2h or 3600")
    return int(float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)])


def estimate_cost(flavor: str, minutes: float) -> str:
    """What a run of `minutes` on `flavor` costs at the listed hourly price (setup time included by the caller)."""
    what, per_hour = FLAVORS.get(flavor, (flavor, float("nan")))
    return f"{flavor} ({what}): about ${per_hour * minutes / 60:.2f} for {minutes:.0f} min at ${per_hour:.2f}/h"


@dataclass(frozen=True)
class RemoteTarget:
    """Where a remote run reads from and writes to."""

    run_id: str
    namespace: str
    bundle: str  # the private dataset repo with job.py, the entry script, the plan and the data
    bundle_revision: str
    model_repo: str  # where the adapter and the figures are pushed (private)

    def environment(self) -> dict[str, str]:
        """What remote_entry.py reads (no secret among them: the token travels as a secret)."""
        return {"FORKLIFT_BUNDLE": self.bundle, "FORKLIFT_BUNDLE_REVISION": self.bundle_revision,
                "FORKLIFT_MODEL_REPO": self.model_repo, "FORKLIFT_RUN_ID": self.run_id}


class RemoteLauncher:
    """Start, poll, cancel and read logs of runs on one remote backend; subclasses say how the backend does each."""

    backend = ""
    label = ""

    def __init__(self, workspace: Workspace, project: str, hub: Hub, flavor: str = "t4-small",
                 timeout: str = "2h", model_repo: str = "") -> None:
        if flavor not in FLAVORS:
            raise BadInputError(f"unknown hardware flavor {flavor!r}; one of {', '.join(FLAVORS)}")
        timeout_seconds(timeout)
        self.local = LocalLauncher(workspace, project)
        self.paths = self.local.paths
        self.hub, self.flavor, self.timeout, self.model_repo = hub, flavor, timeout, model_repo

    # what a backend provides
    def _launch(self, target: RemoteTarget, folder: Path) -> dict[str, Any]:
        """Start the remote side; returns what the manifest must remember to find it again."""
        raise NotImplementedError

    def _remote_state(self, manifest: dict[str, Any]) -> tuple[str, str]:
        """(running | completed | ended | failed | cancelled, message); 'ended': the results say how it went."""
        raise NotImplementedError

    def _stop(self, manifest: dict[str, Any]) -> None:
        """Stop the remote side now (billing stops with it)."""
        raise NotImplementedError

    def _log_lines(self, manifest: dict[str, Any]) -> list[str]:
        raise NotImplementedError

    def _release(self, manifest: dict[str, Any]) -> None:
        """Give back whatever still bills once the run has ended (nothing, unless the backend keeps hardware)."""

    def _preflight(self) -> None:
        """Refuse before anything is prepared or pushed when the backend cannot run here (nothing to check)."""

    # shared
    def start(self, plan: TrainPlan) -> str:
        """Prepare the run here, push its bundle, start it remotely; returns the run id."""
        self._preflight()
        publish.require_reviewed_secrets(self.paths)  # the training data leaves this machine
        namespace = self.hub.whoami()
        run_id = self.local.prepare(plan)
        folder = self.local.run_dir(run_id)
        try:
            bundle = publish.push(self.hub, self.paths, self._stage_bundle(
                run_id, folder, f"{namespace}/forklift-run-{self.paths.name}-{run_id}"))
            target = RemoteTarget(run_id, namespace, bundle.repo_id, bundle.commit_oid,
                                  self.model_repo or f"{namespace}/{self.paths.name}-{run_id}")
            found = self._launch(target, folder)
        except BaseException as exc:  # the run folder says why it never started
            write_json_atomic(folder / "manifest.json", {**read_manifest(folder), "status": "failed",
                                                          "backend": self.backend, "error": str(exc)[:500]})
            raise
        write_json_atomic(folder / "manifest.json", {
            **read_manifest(folder), "status": "running", "backend": self.backend, "namespace": namespace,
            "flavor": self.flavor, "timeout": self.timeout, "started_at": time.time(), "bundle": target.bundle,
            "model_repo": target.model_repo, **found})
        return run_id

    def _stage_bundle(self, run_id: str, folder: Path, repo_id: str) -> StagedPush:
        """job.py, the remote entry, the plan (its local paths removed) and the training data, staged to push."""
        staged = new_push(self.paths, "run-bundle", repo_id, True, run_id)
        shutil.copy2(JOB_SCRIPT, staged.files_dir / "job.py")
        shutil.copy2(REMOTE_ENTRY, staged.files_dir / "remote_entry.py")
        plan = self._remote_plan(folder)
        (staged.files_dir / "plan.yaml").write_text(yaml.safe_dump(plan, sort_keys=False))
        data = read_manifest(folder).get("train_dataset") or TRAIN_DATA
        shutil.copytree(folder / data, staged.files_dir / "data")
        return seal(staged)

    def _remote_plan(self, folder: Path) -> dict[str, Any]:
        """The run's plan for a machine that loads the base model by its Hub id."""
        plan = yaml.safe_load((folder / "plan.yaml").read_text())
        if Path(plan.get("base_model", "")).is_absolute():
            raise BadInputError("a remote run needs a Hub base model id, not a local folder")
        plan["base_model_path"] = ""
        return plan

    def _run(self, run_id: str) -> tuple[Path, dict[str, Any]]:
        folder = self.local.run_dir(run_id)
        manifest = read_manifest(folder)
        if manifest.get("backend") != self.backend:
            raise BadInputError(f"run {run_id} did not run on {self.label}")
        return folder, manifest

    def poll(self, run_id: str) -> RunStatus:
        """The remote state, mirrored into the run folder; an ended run's results are fetched once."""
        folder, manifest = self._run(run_id)
        if manifest["status"] == "running":
            status, message = self._remote_state(manifest)
            if status == "running" and self._overdue(manifest):
                self._stop(manifest)
                status, message = "failed", f"stopped by ForkLift: still running {self.timeout} after it started"
            if status != "running":
                if status in ("completed", "ended"):
                    status = self._fetch_results(folder, manifest, status)
                self._release(manifest)
                manifest = {**read_manifest(folder), "status": status, "job_message": message}
                write_json_atomic(folder / "manifest.json", manifest)
        return RunStatus(run_id, manifest["status"], folder, manifest, read_progress(folder))

    def _overdue(self, manifest: dict[str, Any]) -> bool:
        started = manifest.get("started_at")
        return bool(started) and time.time() > started + timeout_seconds(manifest["timeout"]) + OVERDUE_GRACE_S

    def _fetch_results(self, folder: Path, manifest: dict[str, Any], status: str) -> str:
        """The adapter, progress and the job's own manifest from the model repo; returns the run's final status."""
        from huggingface_hub import snapshot_download

        remote = folder / ".remote"
        try:
            with hub_errors(self.hub, "fetch the results", manifest["model_repo"]):
                snapshot_download(manifest["model_repo"], local_dir=str(remote), endpoint=self.hub.endpoint,
                                  token=self.hub.token.value, allow_patterns=self._result_patterns())
        except NotFoundError:
            if status == "completed":
                raise
            return "failed"  # ended without pushing anything: nothing came back to say otherwise
        self._adopt_results(remote, folder)
        job_manifest = read_manifest(remote)
        write_json_atomic(folder / "manifest.json", {**job_manifest, **{k: v for k, v in manifest.items()
                                                                        if k not in job_manifest}})
        shutil.rmtree(remote, ignore_errors=True)
        final = job_manifest.get("status")
        if final in FINAL:
            return final
        return "completed" if (folder / "adapter" / "adapter_config.json").is_file() else "failed"

    def _result_patterns(self) -> list[str]:
        return ["adapter/*", "progress.jsonl", "manifest.json"]

    def _adopt_results(self, remote: Path, folder: Path) -> None:
        """Move what came back into the run folder's usual places."""
        if (remote / "adapter").is_dir():
            shutil.rmtree(folder / "adapter", ignore_errors=True)
            shutil.copytree(remote / "adapter", folder / "adapter")
        if (remote / "progress.jsonl").is_file():
            shutil.copy2(remote / "progress.jsonl", folder / "progress.jsonl")

    def cancel(self, run_id: str) -> None:
        """Stop the remote side; the run is marked cancelled."""
        folder, manifest = self._run(run_id)
        self._stop(manifest)
        write_json_atomic(folder / "manifest.json", {**manifest, "status": "cancelled"})

    def wait(self, run_id: str, on_update: Any = None, interval: float = 15.0) -> RunStatus:
        """Poll until the run ends (every 15 s: a remote run takes minutes)."""
        return wait_until_finished(self, run_id, on_update, interval)

    def logs(self, run_id: str, tail: int = 200) -> str:
        """The remote side's latest log lines."""
        _, manifest = self._run(run_id)
        return "\n".join(self._log_lines(manifest)[-tail:])
