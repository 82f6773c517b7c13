"""A project with a completed tiny-Llama run, shared by the evaluation tests of one module."""

from __future__ import annotations

from pathlib import Path

import pytest

from forklift_core.config import TrainPlan
from forklift_core.generate.pipeline import generate
from forklift_core.ingest.index import ingest
from forklift_core.train.launch import LocalLauncher
from forklift_core.workspace import Workspace
from tests.conftest import POLYGLOT


def train_tiny_run(workspace: Workspace, project: str, model: Path) -> str:
    """Three SFT steps of the tiny Llama at a high learning rate (so the adapter visibly changes answers) on a generated project: a real adapter in seconds."""
    launcher = LocalLauncher(workspace, project)
    run_id = launcher.start(TrainPlan(base_model=str(model), method="sft", sft_max_steps=3, batch_size=4, learning_rate=0.05,
                                      eval_steps=50, save_steps=50, pairs="accepted+pending", tensorboard=False))
    status = launcher.wait(run_id, interval=0.5)
    assert status.status == "completed", launcher.logs(run_id)
    return run_id


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, tiny_llama_dir: Path) -> tuple[Workspace, str, str]:
    """(workspace, project, run id) of a completed run on the polyglot fixture."""
    workspace = Workspace(tmp_path_factory.mktemp("eval-ws"))
    ingest(str(POLYGLOT), "poly", workspace)
    generate("poly", workspace)
    return workspace, "poly", train_tiny_run(workspace, "poly", tiny_llama_dir)
