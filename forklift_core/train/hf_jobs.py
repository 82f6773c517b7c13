"""Training on Hugging Face Jobs: the same plan and job.py, on a GPU flavor, with the adapter pushed back.

`start` prepares the run here (export, curriculum, plan.yaml: the same as a local run), pushes a private bundle
repo (job.py, remote_entry.py, the plan, the training data) and starts `run_uv_job` with the token as a secret and
a timeout always set. `poll` reads the job's stage; a completed run's adapter is pulled into the run folder, so
the Compare tab treats it like a local one. `cancel` cancels the job.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import yaml

from forklift_core.config import TrainPlan
from forklift_core.errors import BadInputError
from forklift_core.hub import publish
from forklift_core.hub.client import Hub, hub_errors
from forklift_core.hub.staging import new_push, seal
from forklift_core.train.launch import (TRAIN_DATA, LocalLauncher, RunStatus, read_manifest, read_progress,
                                        wait_until_finished)
from forklift_core.train.recipe import JOB_SCRIPT
from forklift_core.workspace import Workspace, write_json_atomic

REMOTE_ENTRY = Path(__file__).with_name("remote_entry.py")
# What the job's `python -c` runs: fetch the bundle's entry script and run it (uv installs the dependencies first).
BOOTSTRAP = ("import os, runpy; from huggingface_hub import hf_hub_download; "
             "runpy.run_path(hf_hub_download(os.environ['FORKLIFT_BUNDLE'], 'remote_entry.py', repo_type='dataset', "
             "revision=os.environ['FORKLIFT_BUNDLE_REVISION']), run_name='__main__')")
FLAVORS = {  # hardware flavor -> (what it is, USD per hour as listed when this was written)
    "cpu-upgrade": ("8 vCPU, 32 GB", 0.03), "t4-small": ("NVIDIA T4 16 GB", 0.40), "t4-medium": ("NVIDIA T4 16 GB", 0.60),
    "l4x1": ("NVIDIA L4 24 GB", 0.80), "a10g-small": ("NVIDIA A10G 24 GB", 1.00), "a10g-large": ("NVIDIA A10G 24 GB", 1.50),
    "a100-large": ("NVIDIA A100 80 GB", 2.50),
}
_STAGES = {"COMPLETED": "completed", "CANCELED": "cancelled", "ERROR": "failed", "DELETED": "failed",
           "SCHEDULING": "running", "RUNNING": "running"}


def script_dependencies(script: Path) -> list[str]:
    """The dependencies a uv script declares in its `# /// script` block (one list, in the script itself)."""
    block = re.search(r"^# /// script\n(.*?)^# ///$", script.read_text(encoding="utf-8"), re.M | re.S)
    if not block:
        return []
    return re.findall(r'^#\s+"([^"]+)",?$', block.group(1), re.M)


def estimate_cost(flavor: str, minutes: float) -> str:
    """What a run of `minutes` on `flavor` costs at the listed hourly price (setup time included by the caller)."""
    what, per_hour = FLAVORS.get(flavor, (flavor, float("nan")))
    return f"{flavor} ({what}): about ${per_hour * minutes / 60:.2f} for {minutes:.0f} min at ${per_hour:.2f}/h"


class HFJobsLauncher:
    """Runs a plan's job on Hugging Face Jobs; the run folder here mirrors the remote job's state."""

    def __init__(self, workspace: Workspace, project: str, hub: Hub, flavor: str = "t4-small",
                 timeout: str = "2h", model_repo: str = "") -> None:
        if flavor not in FLAVORS:
            raise BadInputError(f"unknown hardware flavor {flavor!r}; one of {', '.join(FLAVORS)}")
        if not re.fullmatch(r"\d+(\.\d+)?[smhd]?", timeout):
            raise BadInputError("timeout must look like 90m, 2h or 3600")
        self.local = LocalLauncher(workspace, project)
        self.paths = self.local.paths
        self.hub, self.flavor, self.timeout, self.model_repo = hub, flavor, timeout, model_repo

    def start(self, plan: TrainPlan) -> str:
        """Prepare the run here, push its bundle, start the job; returns the run id."""
        publish.require_reviewed_secrets(self.paths)  # the training data leaves this machine
        namespace = self.hub.whoami()
        run_id = self.local.prepare(plan)
        folder = self.local.run_dir(run_id)
        model_repo = self.model_repo or f"{namespace}/{self.paths.name}-{run_id}"
        bundle = self._stage_bundle(run_id, folder, f"{namespace}/forklift-run-{self.paths.name}-{run_id}")
        pushed = publish.push(self.hub, self.paths, bundle)
        api = self.hub.api()
        with hub_errors(self.hub, "start the job", namespace):
            job = api.run_uv_job("python", script_args=["-c", BOOTSTRAP],
                                 dependencies=script_dependencies(JOB_SCRIPT) + ["huggingface_hub>=1.0"],
                                 env={"FORKLIFT_BUNDLE": pushed.repo_id, "FORKLIFT_BUNDLE_REVISION": pushed.commit_oid,
                                      "FORKLIFT_MODEL_REPO": model_repo, "FORKLIFT_RUN_ID": run_id},
                                 secrets={"HF_TOKEN": self.hub.token.value}, flavor=self.flavor,
                                 timeout=self.timeout, name=f"forklift-{run_id}", labels={"forklift-run": run_id},
                                 namespace=namespace, token=self.hub.token.value)
        write_json_atomic(folder / "manifest.json", {
            **read_manifest(folder), "status": "running", "backend": "hf-jobs", "job_id": job.id, "job_url": job.url,
            "namespace": namespace, "flavor": self.flavor, "timeout": self.timeout, "bundle": pushed.repo_id,
            "model_repo": model_repo})
        return run_id

    def _stage_bundle(self, run_id: str, folder: Path, repo_id: str) -> Any:
        """job.py, the remote entry, the plan (its local paths removed) and the training data, staged to push."""
        staged = new_push(self.paths, "run-bundle", repo_id, True, run_id)
        shutil.copy2(JOB_SCRIPT, staged.files_dir / "job.py")
        shutil.copy2(REMOTE_ENTRY, staged.files_dir / "remote_entry.py")
        plan = yaml.safe_load((folder / "plan.yaml").read_text())
        if Path(plan.get("base_model", "")).is_absolute():
            raise BadInputError("a remote run needs a Hub base model id, not a local folder")
        plan["base_model_path"] = ""  # the job loads the base by its Hub id over there
        (staged.files_dir / "plan.yaml").write_text(yaml.safe_dump(plan, sort_keys=False))
        data = read_manifest(folder).get("train_dataset") or TRAIN_DATA
        shutil.copytree(folder / data, staged.files_dir / "data")
        return seal(staged)

    def _job(self, run_id: str) -> tuple[Path, dict[str, Any]]:
        folder = self.local.run_dir(run_id)
        manifest = read_manifest(folder)
        if manifest.get("backend") != "hf-jobs":
            raise BadInputError(f"run {run_id} did not run on HF Jobs")
        return folder, manifest

    def poll(self, run_id: str) -> RunStatus:
        """The job's stage, mirrored into the run folder; a completed run's adapter is fetched once."""
        folder, manifest = self._job(run_id)
        if manifest["status"] == "running":
            with hub_errors(self.hub, "read the job's status"):
                info = self.hub.api().inspect_job(job_id=manifest["job_id"], namespace=manifest["namespace"],
                                                  token=self.hub.token.value)
            status = _STAGES.get(str(info.status.stage.value if hasattr(info.status.stage, "value")
                                     else info.status.stage), "running")
            if status != "running":
                if status == "completed":
                    self._fetch_results(folder, manifest)
                manifest = {**read_manifest(folder), "status": status, "job_message": info.status.message or ""}
                write_json_atomic(folder / "manifest.json", manifest)
        return RunStatus(run_id, manifest["status"], folder, manifest, read_progress(folder))

    def _fetch_results(self, folder: Path, manifest: dict[str, Any]) -> None:
        """The adapter, progress and the job's own manifest from the model repo, into the run folder."""
        from huggingface_hub import snapshot_download

        with hub_errors(self.hub, "fetch the results", manifest["model_repo"]):
            snapshot_download(manifest["model_repo"], local_dir=str(folder / ".remote"), endpoint=self.hub.endpoint,
                              token=self.hub.token.value, allow_patterns=["adapter/*", "progress.jsonl",
                                                                          "manifest.json"])
        remote = folder / ".remote"
        if (remote / "adapter").is_dir():
            shutil.rmtree(folder / "adapter", ignore_errors=True)
            shutil.copytree(remote / "adapter", folder / "adapter")
        if (remote / "progress.jsonl").is_file():
            shutil.copy2(remote / "progress.jsonl", folder / "progress.jsonl")
        job_manifest = read_manifest(remote)
        write_json_atomic(folder / "manifest.json", {**job_manifest, **{k: v for k, v in manifest.items()
                                                                        if k not in job_manifest}})
        shutil.rmtree(remote, ignore_errors=True)

    def cancel(self, run_id: str) -> None:
        """Cancel the remote job (billing stops with it)."""
        folder, manifest = self._job(run_id)
        with hub_errors(self.hub, "cancel the job"):
            self.hub.api().cancel_job(job_id=manifest["job_id"], namespace=manifest["namespace"],
                                      token=self.hub.token.value)
        write_json_atomic(folder / "manifest.json", {**manifest, "status": "cancelled"})

    def wait(self, run_id: str, on_update: Any = None, interval: float = 15.0) -> RunStatus:
        """Poll the job until it ends (every 15 s: a remote job takes minutes)."""
        return wait_until_finished(self, run_id, on_update, interval)

    def logs(self, run_id: str, tail: int = 200) -> str:
        """The job's latest log lines."""
        _, manifest = self._job(run_id)
        with hub_errors(self.hub, "read the job's logs"):
            lines = list(self.hub.api().fetch_job_logs(job_id=manifest["job_id"], namespace=manifest["namespace"],
                                                       follow=False, token=self.hub.token.value))
        return "\n".join(lines[-tail:])
