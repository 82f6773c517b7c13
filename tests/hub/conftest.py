"""The fake Hub, a project with generated pairs, and a completed run holding a real PEFT adapter."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Iterator

import pytest

from forklift_core.config import HubConfig, TrainPlan
from forklift_core.generate.pipeline import generate
from forklift_core.hub.auth import HubToken
from forklift_core.hub.client import Hub
from forklift_core.ingest.index import ingest
from forklift_core.models import DEFAULT_LM_ID
from forklift_core.workspace import Workspace
from tests.conftest import POLYGLOT
from tests.hub.fake_hub import FakeHub

TOKEN = "hf_TestTokenAdaWrite0123456789"
READ_TOKEN = "hf_TestTokenAdaRead0123456789"


@pytest.fixture(autouse=True)
def lfs_not_xet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Large files go by the Hub's LFS protocol: the xet protocol needs a content store this fake does not have."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)


@pytest.fixture
def fake_hub() -> Iterator[FakeHub]:
    hub = FakeHub()
    hub.add_token(TOKEN, "ada")
    hub.add_token(READ_TOKEN, "ada", role="read")
    hub.start()
    yield hub
    hub.stop()


@pytest.fixture
def hub(fake_hub: FakeHub) -> Hub:
    return Hub(HubToken(TOKEN, "HF_TOKEN"), HubConfig(endpoint=fake_hub.url))


@pytest.fixture
def hub_base_model(fake_hub: FakeHub, tiny_llama_dir: Path) -> str:
    """The tiny Llama as a Hub model repo, where a remote run loads its base model from."""
    from huggingface_hub import HfApi

    api = HfApi(endpoint=fake_hub.url)
    api.create_repo("ada/tiny-llama", token=TOKEN)
    api.upload_folder(repo_id="ada/tiny-llama", folder_path=str(tiny_llama_dir), token=TOKEN)
    return "ada/tiny-llama"


@pytest.fixture(scope="session")
def adapter_run_template(tmp_path_factory: pytest.TempPathFactory, smollm2_dir: Path) -> Path:
    """A completed run folder, made once and copied into each test's project."""
    folder = tmp_path_factory.mktemp("run-template") / "run-1"
    make_adapter_run(folder, smollm2_dir)
    return folder


@pytest.fixture(scope="module")
def generated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with the polyglot project ingested and generated, made once per module."""
    root = tmp_path_factory.mktemp("hub-ws")
    workspace = Workspace(root)
    ingest(str(POLYGLOT), "poly", workspace)
    generate("poly", workspace)
    return root


@pytest.fixture
def project(tmp_path: Path, generated_template: Path, adapter_run_template: Path) -> tuple[Workspace, str]:
    """A test's own copy of the generated project, with one completed run ('run-1')."""
    shutil.copytree(generated_template, tmp_path / "ws")
    workspace = Workspace(tmp_path / "ws")
    shutil.copytree(adapter_run_template, workspace.project("poly").runs_dir / "run-1")
    return workspace, "poly"


def make_adapter_run(run_dir: Path, base_dir: Path) -> None:
    """A completed run as the trainer leaves it: a LoRA adapter on the embedded SmolLM2 (PEFT layout), plan, manifest."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(base_dir),
                           LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"]))
    with torch.no_grad():  # LoRA's B starts at zero (a no-op adapter); make it change the answers, like a trained one
        for name, weight in model.named_parameters():
            if "lora_B" in name:
                weight.normal_(0, 0.5)
    model.save_pretrained(run_dir / "adapter")
    plan = TrainPlan(base_model=DEFAULT_LM_ID, base_model_path=str(base_dir), lora_r=2)
    (run_dir / "plan.yaml").write_text(plan.to_yaml())
    (run_dir / "manifest.json").write_text(json.dumps({"status": "completed", "run_id": run_dir.name, "pid": 4242,
                                                       "plan": plan.to_dict(), "steps": {"sft": 3}}))
