"""Training on Hugging Face Jobs: the same plan and job.py, on a GPU flavor, with the adapter pushed back.

The run is prepared here and its bundle pushed (`train/remote.py`); `run_uv_job` starts the bundle's entry script
with job.py's own dependencies, the token as a secret and a timeout always set. The job's stage is polled; a
completed run's adapter is pulled into the run folder, so the Compare tab treats it like a local one.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from forklift_core.hub.client import hub_errors
from forklift_core.train.recipe import JOB_SCRIPT
from forklift_core.train.remote import RemoteLauncher, RemoteTarget

# What the job's `python -c` runs: fetch the bundle's entry script and run it (uv installs the dependencies first).
BOOTSTRAP = ("import os, runpy; from huggingface_hub import hf_hub_download; "
             "runpy.run_path(hf_hub_download(os.environ['FORKLIFT_BUNDLE'], 'remote_entry.py', repo_type='dataset', "
             "revision=os.environ['FORKLIFT_BUNDLE_REVISION']), run_name='__main__')")
_STAGES = {"COMPLETED": "completed", "CANCELED": "cancelled", "ERROR": "failed", "DELETED": "failed",
           "SCHEDULING": "running", "RUNNING": "running"}


def script_dependencies(script: Path) -> list[str]:
    """The dependencies a uv script declares in its `# /// script` block (one list, in the script itself)."""
    block = re.search(r"^# /// script\n(.*?)^# ///$", script.read_text(encoding="utf-8"), re.M | re.S)
    if not block:
        return []
    return re.findall(r'^#\s+"([^"]+)",?$', block.group(1), re.M)


def remote_dependencies() -> list[str]:
    """What a remote machine installs to run the bundle: job.py's own list and the Hub client."""
    return script_dependencies(JOB_SCRIPT) + ["huggingface_hub>=1.0"]


class HFJobsLauncher(RemoteLauncher):
    """Runs a plan's job on Hugging Face Jobs; the run folder here mirrors the job's state."""

    backend, label = "hf-jobs", "HF Jobs"

    def _launch(self, target: RemoteTarget, folder: Path) -> dict[str, Any]:
        with hub_errors(self.hub, "start the job", target.namespace):
            job = self.hub.api().run_uv_job(
                "python", script_args=["-c", BOOTSTRAP], dependencies=remote_dependencies(),
                env=target.environment(), secrets={"HF_TOKEN": self.hub.token.value}, flavor=self.flavor,
                timeout=self.timeout, name=f"forklift-{target.run_id}", labels={"forklift-run": target.run_id},
                namespace=target.namespace, token=self.hub.token.value)
        return {"job_id": job.id, "job_url": job.url, "url": job.url}

    def _remote_state(self, manifest: dict[str, Any]) -> tuple[str, str]:
        with hub_errors(self.hub, "read the job's status"):
            info = self.hub.api().inspect_job(job_id=manifest["job_id"], namespace=manifest["namespace"],
                                              token=self.hub.token.value)
        stage = info.status.stage
        return _STAGES.get(str(getattr(stage, "value", stage)), "running"), info.status.message or ""

    def _stop(self, manifest: dict[str, Any]) -> None:
        with hub_errors(self.hub, "cancel the job"):
            self.hub.api().cancel_job(job_id=manifest["job_id"], namespace=manifest["namespace"],
                                      token=self.hub.token.value)

    def _log_lines(self, manifest: dict[str, Any]) -> list[str]:
        with hub_errors(self.hub, "read the job's logs"):
            return list(self.hub.api().fetch_job_logs(job_id=manifest["job_id"], namespace=manifest["namespace"],
                                                      follow=False, token=self.hub.token.value))
