"""Training on a private GPU Space: what is created, the Space run as the Hub would run it, and the hardware
released in every end state (trained, broken, cancelled, overdue)."""

from __future__ import annotations

import json
import sys
import time

import pytest
import yaml

from forklift_core.config import TrainPlan
from forklift_core.errors import BadInputError
from forklift_core.train.hf_space import SpaceLauncher
from forklift_core.train.launch import read_manifest
from forklift_core.workspace import write_json_atomic
from tests.hub.conftest import TOKEN


def _plan(base_model: str) -> TrainPlan:
    return TrainPlan(base_model=base_model, method="sft", sft_max_steps=3, batch_size=4, learning_rate=0.05,
                     eval_steps=50, save_steps=50, pairs="accepted+pending", tensorboard=False, curriculum=False)


def test_a_run_on_a_training_space_trains_pushes_its_adapter_and_pauses_the_space(project, hub, fake_hub,
                                                                                 hub_base_model, tmp_path) -> None:
    workspace, name = project
    launcher = SpaceLauncher(workspace, name, hub, flavor="a10g-small", timeout="45m")
    run_id = launcher.start(_plan(hub_base_model))
    manifest = read_manifest(workspace.project(name).runs_dir / run_id)
    space_id = manifest["space_id"]

    # Created private with the Docker SDK; the token is a Space secret, never a variable or a file.
    create = [json.loads(c["body"]) for c in fake_hub.calls("POST", "/api/repos/create")
              if json.loads(c["body"]).get("type") == "space"][0]
    assert create["visibility"] == "private" and create["sdk"] == "docker"
    assert create["secrets"] == [{"key": "HF_TOKEN", "value": TOKEN,
                                  "description": "ForkLift: pulls the bundle, pushes the adapter"}]
    variables = {v["key"]: v["value"] for v in create["variables"]}
    assert variables["FORKLIFT_BUNDLE"] == manifest["bundle"] and variables["FORKLIFT_TIMEOUT_S"] == "2700"
    assert TOKEN not in json.dumps(create["variables"])
    space = fake_hub.repos[("space", space_id)]
    files = fake_hub.files("space", space_id)
    assert {"Dockerfile", "README.md", "requirements.txt", "space_entry.py", "remote_entry.py"} <= set(files)
    assert yaml.safe_load(files["README.md"].decode().split("---")[1])["sdk"] == "docker"
    assert b"trl>=1.10,<2" in files["requirements.txt"] and all(TOKEN.encode() not in d for d in files.values())
    assert space.hardware == "a10g-small" and space.private
    assert launcher.poll(run_id).status == "running"

    code = fake_hub.run_space_locally(space_id, sys.executable, {"HF_HOME": str(tmp_path / "hf-home"),
                                                                 "HF_HUB_DISABLE_XET": "1"})
    assert code == 0, "\n".join(space.logs[-30:])
    assert space.stage == "PAUSED"  # the Space released its GPU itself
    status = launcher.poll(run_id)
    assert status.status == "completed" and status.manifest["backend"] == "space" and status.progress
    assert (status.run_dir / "adapter" / "adapter_config.json").is_file()
    assert "releasing the hardware" in launcher.logs(run_id)


def test_a_broken_cancelled_or_overdue_space_is_paused_by_the_launcher(project, hub, fake_hub, hub_base_model) -> None:
    workspace, name = project
    launcher = SpaceLauncher(workspace, name, hub, flavor="t4-small", timeout="30m")
    broken, cancelled, overdue = (launcher.start(_plan(hub_base_model)) for _ in range(3))
    space_of = {r: read_manifest(workspace.project(name).runs_dir / r)["space_id"] for r in (broken, cancelled, overdue)}
    for run_id in space_of:
        fake_hub.repos[("space", space_of[run_id])].stage = "RUNNING"

    fake_hub.repos[("space", space_of[broken])].stage = "BUILD_ERROR"
    status = launcher.poll(broken)
    assert status.status == "failed" and "BUILD_ERROR" in status.manifest["job_message"]
    assert fake_hub.repos[("space", space_of[broken])].stage == "PAUSED"

    launcher.cancel(cancelled)
    assert launcher.poll(cancelled).status == "cancelled"
    assert fake_hub.repos[("space", space_of[cancelled])].stage == "PAUSED"

    folder = workspace.project(name).runs_dir / overdue
    write_json_atomic(folder / "manifest.json", {**read_manifest(folder), "started_at": time.time() - 3 * 3600})
    status = launcher.poll(overdue)
    assert status.status == "failed" and "still running 30m" in status.manifest["job_message"]
    assert fake_hub.repos[("space", space_of[overdue])].stage == "PAUSED"
    assert len(fake_hub.calls("POST", "/pause")) == 3


def test_a_space_run_needs_a_hub_base_model(project, hub, tmp_path) -> None:
    workspace, name = project
    with pytest.raises(BadInputError, match="Hub base model id"):
        SpaceLauncher(workspace, name, hub).start(_plan(str(tmp_path)))


def test_the_cli_starts_a_space_run_detached_and_runs_reads_its_state(project, fake_hub, hub_base_model, monkeypatch,
                                                                       capsys) -> None:
    from forklift_core.cli import main

    workspace, name = project
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.setenv("HF_ENDPOINT", fake_hub.url)
    assert main(["train", "--workspace", str(workspace.root), "--project", name, "--base-model", hub_base_model,
                 "--method", "sft", "--max-steps", "2", "--include-unreviewed", "--backend", "space",
                 "--hardware", "l4x1", "--timeout", "40m", "--detach"]) == 0
    err = capsys.readouterr().err
    assert "on a GPU Space" in err and "l4x1" in err and "$" in err
    space = next(repo for (kind, _), repo in fake_hub.repos.items() if kind == "space")
    assert space.hardware == "l4x1"
    space.stage = "RUNTIME_ERROR"
    assert main(["runs", "--workspace", str(workspace.root), "--project", name]) == 0
    assert "failed" in capsys.readouterr().out and space.stage == "PAUSED"
