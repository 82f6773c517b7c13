"""The fake Hub, a project with generated pairs, and a completed run holding a real PEFT adapter."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import pytest

from forklift_core.config import HubConfig
from forklift_core.hub.auth import HubToken
from forklift_core.hub.client import Hub
from forklift_core.workspace import Workspace
from tests.conftest import POLY, copy_project
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


@pytest.fixture
def project(tmp_path: Path, generated_polyglot: Path, adapter_run_template: Path) -> tuple[Workspace, str]:
    """A test's own copy of the generated project, with one completed run ('run-1')."""
    workspace = Workspace(tmp_path / "ws")
    copy_project(generated_polyglot, workspace)
    shutil.copytree(adapter_run_template, workspace.project(POLY).runs_dir / "run-1")
    return workspace, POLY
