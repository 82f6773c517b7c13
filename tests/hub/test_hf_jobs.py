"""Training on HF Jobs: the launcher's requests, and job.py run end to end exactly as the job would start it."""

from __future__ import annotations

import json
import sys

import pytest

from forklift_core.cli import main
from forklift_core.config import TrainPlan
from forklift_core.errors import BadInputError
from forklift_core.hub.staging import PUSHED, pushes
from forklift_core.train.hf_jobs import BOOTSTRAP, HFJobsLauncher, script_dependencies
from forklift_core.train.remote import estimate_cost
from forklift_core.train.recipe import JOB_SCRIPT
from tests.hub.conftest import TOKEN


def test_a_run_on_hf_jobs_trains_from_its_bundle_and_its_adapter_comes_back(project, hub, fake_hub, hub_base_model,
                                                                           tmp_path, monkeypatch, capsys) -> None:
    workspace, name = project
    launcher = HFJobsLauncher(workspace, name, hub, flavor="t4-small", timeout="30m")
    plan = TrainPlan(base_model=hub_base_model, method="sft", sft_max_steps=3, batch_size=4, learning_rate=0.05,
                     eval_steps=50, save_steps=50, pairs="accepted+pending", tensorboard=False, curriculum=False)
    run_id = launcher.start(plan)

    # The bundle went first (private), then one job request with the token as a secret, a timeout and the flavor.
    bundle = [p for p in pushes(workspace.project(name)) if p.kind == "run-bundle"][0]
    assert bundle.status == PUSHED and {"job.py", "remote_entry.py", "plan.yaml"} <= set(bundle.files)
    assert fake_hub.repos[("dataset", bundle.repo_id)].private
    spec = json.loads(fake_hub.calls("POST", "/api/jobs/ada")[0]["body"])
    assert spec["flavor"] == "t4-small" and spec["timeoutSeconds"] == 1800 and spec["secrets"] == {"HF_TOKEN": TOKEN}
    assert TOKEN not in json.dumps(spec["environment"]) and spec["command"][:2] == ["uv", "run"]
    assert spec["command"][-2:] == ["-c", BOOTSTRAP] and "trl>=1.10,<2" in spec["command"]
    assert launcher.poll(run_id).status == "running"

    job_id = next(iter(fake_hub.jobs))
    code = fake_hub.run_job_locally(job_id, sys.executable, {"HF_HOME": str(tmp_path / "hf-home"),
                                                             "HF_HUB_DISABLE_XET": "1"})
    assert code == 0, "\n".join(fake_hub.jobs[job_id]["logs"][-30:])
    status = launcher.poll(run_id)
    assert status.status == "completed" and status.manifest["backend"] == "hf-jobs"
    assert (status.run_dir / "adapter" / "adapter_config.json").is_file() and status.progress
    assert "results pushed to" in launcher.logs(run_id)
    pushed = fake_hub.files("model", status.manifest["model_repo"])  # the job pushed it (private), we fetched it
    assert fake_hub.repos[("model", status.manifest["model_repo"])].private
    assert pushed["adapter/adapter_model.safetensors"] == (status.run_dir / "adapter/adapter_model.safetensors").read_bytes()

    second = launcher.start(plan)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.setenv("HF_ENDPOINT", fake_hub.url)
    fake_hub.jobs[list(fake_hub.jobs)[1]]["status"] = {"stage": "ERROR", "message": "CUDA out of memory"}
    assert main(["runs", "--workspace", str(workspace.root), "--project", name]) == 0  # asks HF Jobs
    assert f"{second}  failed" in capsys.readouterr().out
    assert launcher.poll(second).manifest["job_message"] == "CUDA out of memory"
    third = launcher.start(plan)
    launcher.cancel(third)
    assert launcher.poll(third).status == "cancelled"
    assert fake_hub.jobs[list(fake_hub.jobs)[2]]["status"]["stage"] == "CANCELED"


def test_the_job_dependencies_are_the_scripts_own_and_bad_options_are_refused(project, hub) -> None:
    assert "torch==2.13.0" in script_dependencies(JOB_SCRIPT)
    workspace, name = project
    with pytest.raises(BadInputError, match="flavor"):
        HFJobsLauncher(workspace, name, hub, flavor="gpu-of-dreams")
    with pytest.raises(BadInputError, match="timeout"):
        HFJobsLauncher(workspace, name, hub, timeout="forever")
    assert "$0.40" in estimate_cost("t4-small", 60)
