"""AutoTrain: the config ForkLift writes, its CLI run in an environment of its own, and the run followed on the
training Space that CLI creates until the adapter comes back."""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path

import pytest
import yaml

from forklift_core.config import TrainPlan
from forklift_core.errors import BadInputError
from forklift_core.train.autotrain import AutoTrainLauncher, autotrain_executable
from forklift_core.train.launch import wait_until_finished
from tests.hub.conftest import TOKEN

STAND_IN = Path(__file__).with_name("fake_autotrain.py")


@pytest.fixture
def autotrain_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An `autotrain` executable outside ForkLift's environment (the stand-in for AutoTrain's CLI)."""
    executable = tmp_path / "autotrain-env" / "bin" / "autotrain"
    executable.parent.mkdir(parents=True)
    executable.write_text(f"#!/bin/sh\nexec {sys.executable} {STAND_IN} \"$@\"\n")
    executable.chmod(0o755)
    monkeypatch.setenv("FORKLIFT_AUTOTRAIN", str(executable))
    return executable


def test_an_autotrain_run_creates_its_space_and_the_adapter_it_pushes_comes_back(project, hub, fake_hub, autotrain_cli,
                                                                                 adapter_run_template) -> None:
    from huggingface_hub import HfApi

    workspace, name = project
    launcher = AutoTrainLauncher(workspace, name, hub, flavor="a10g-large", timeout="1h")
    plan = TrainPlan(base_model="HuggingFaceTB/SmolLM2-135M-Instruct", method="sft", pairs="accepted+pending",
                     curriculum=False, lora_r=8)
    run_id = launcher.start(plan)
    folder = workspace.project(name).runs_dir / run_id

    config = yaml.safe_load((folder / "autotrain.yml").read_text())
    assert config["task"] == "llm-sft" and config["backend"] == "spaces-a10g-large"
    assert config["data"]["column_mapping"] == {"text_column": "messages"}
    assert config["params"]["peft"] is True and config["params"]["quantization"] == "int4"
    assert config["params"]["lora_r"] == 8 and config["hub"]["token"] == "${HF_TOKEN}"
    assert TOKEN not in (folder / "autotrain.yml").read_text()
    bundle = fake_hub.files("dataset", config["data"]["path"])
    rows = [json.loads(line) for line in bundle["train.jsonl"].decode().splitlines()]
    assert rows and rows[0]["messages"][0]["role"] in ("system", "user")

    status = launcher.poll(run_id)
    while "space_id" not in status.manifest:  # the CLI is still creating the Space
        time.sleep(0.2)
        status = launcher.poll(run_id)
    space_id = status.manifest["space_id"]
    assert space_id == f"ada/autotrain-{config['project_name']}" and status.status == "running"
    assert fake_hub.repos[("space", space_id)].hardware == "a10g-large"
    fake_hub.repos[("space", space_id)].stage = "RUNNING"
    assert launcher.poll(run_id).status == "running"

    # AutoTrain trains on its Space, pushes the PEFT files at the model repo's root, and pauses the Space.
    api = HfApi(endpoint=fake_hub.url, token=TOKEN)
    api.create_repo(status.manifest["model_repo"], private=True)
    api.upload_folder(repo_id=status.manifest["model_repo"], folder_path=str(adapter_run_template / "adapter"))
    fake_hub.repos[("space", space_id)].stage = "PAUSED"
    status = launcher.poll(run_id)
    assert status.status == "completed" and (status.run_dir / "adapter" / "adapter_model.safetensors").is_file()
    assert "Training Space created" in launcher.logs(run_id)


def test_autotrain_never_runs_from_forklifts_environment(project, hub, fake_hub, tmp_path, monkeypatch) -> None:
    workspace, name = project
    assert importlib.util.find_spec("autotrain") is None  # not installed beside ForkLift
    monkeypatch.setenv("FORKLIFT_AUTOTRAIN", str(tmp_path / "missing" / "autotrain"))
    with pytest.raises(BadInputError, match="make autotrain-env"):
        AutoTrainLauncher(workspace, name, hub).start(TrainPlan(method="sft"))
    assert not fake_hub.requests  # refused before anything was pushed
    inside = Path(sys.prefix) / "bin" / "python"
    monkeypatch.setenv("FORKLIFT_AUTOTRAIN", str(inside))
    with pytest.raises(BadInputError, match="inside ForkLift's own environment"):
        autotrain_executable()


def test_a_config_autotrain_rejects_is_a_failed_run_with_its_reason(project, hub, fake_hub, autotrain_cli,
                                                                    monkeypatch) -> None:
    workspace, name = project
    broken = autotrain_cli.with_name("autotrain-broken")
    broken.write_text("#!/bin/sh\necho 'ERROR | invalid config: base_model not found'\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setenv("FORKLIFT_AUTOTRAIN", str(broken))
    launcher = AutoTrainLauncher(workspace, name, hub)
    run_id = launcher.start(TrainPlan(base_model="HuggingFaceTB/SmolLM2-135M-Instruct", method="sft",
                                      pairs="accepted+pending", curriculum=False))
    status = wait_until_finished(launcher, run_id, interval=0.2)
    assert status.status == "failed" and "base_model not found" in status.manifest["job_message"]
    assert not (status.run_dir / "adapter").exists()
