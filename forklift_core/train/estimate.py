"""Time and memory estimates for a plan on this hardware: a hint before a run, and step caps that fit a budget."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from forklift_core.config import TrainPlan
from forklift_core.train.recipe import job_module

# Sustained LoRA training rate, counted as 6 FLOPs per parameter per real (non-padding) token, per CPU core.
# bench/train.py's fixed-length batches reach ~8e10 with bf16 autocast (AVX-512 BF16), but the default plan's
# curriculum runs on SmolLM2-135M measured 100-140 tokens/s on 2 cores (short rows, padding, in-run evaluation):
# ~5.5e10 per core. The job's clock ends a run on time either way; this sets how much of the plan it covers.
CPU_FLOPS_PER_CORE = {True: 5.5e10, False: 4e10}
GPU_FLOPS = 5e13
# Per DPO token (prompt, chosen and rejected): the prompt is seen twice and a reference forward adds 2 of 6 FLOPs.
DPO_TOKEN_COST = 1.3 * 8 / 6
CHARS_PER_TOKEN = 3.5  # code and identifiers tokenise denser than prose
TEMPLATE_TOKENS = 40  # a chat template's own tokens per row (default system prompt, role markers)
# Fixed costs of a run that are not training steps: loading the model, tokenising, the in-run evaluations.
FIXED_SECONDS = 25.0
EVAL_SHARE = 0.06
TYPICAL_ROW_TOKENS = 100  # a generated Q&A row under a chat template, for hints made before any data is read
SFT_SHARE = 0.7  # of a shared time budget, when both stages are capped


@dataclass(frozen=True)
class DatasetStats:
    """Rows and mean tokens per row of an exported dataset's train splits."""

    sft_rows: int = 0
    sft_tokens: float = 0.0
    dpo_rows: int = 0
    dpo_tokens: float = 0.0


@dataclass(frozen=True)
class Estimate:
    """Parameters, tokens, seconds and memory of a planned run."""

    parameters: int
    tokens: int
    seconds: float
    memory_gib: float = 0.0
    available_gib: float = 0.0

    def hint(self) -> str:
        """A sentence for the Train tab."""
        minutes = self.seconds / 60
        size = f"{self.parameters / 1e6:.0f}M parameters" if self.parameters else "unknown size"
        text = f"≈ {minutes:.0f} min for {self.tokens:,} training tokens on {size}"
        if self.available_gib and self.memory_gib > self.available_gib:
            text += (f" — ⚠️ needs ≈ {self.memory_gib:.0f} GiB but this machine has {self.available_gib:.0f} GiB: "
                     "choose a smaller model, 4-bit quantisation on a GPU, or a remote backend")
        elif minutes > 60:
            text += " — ⚠️ this will take very long on this hardware; lower max steps or use a GPU backend"
        return text


def parameter_count(model_dir: str) -> int:
    """Parameters of a llama-like model from its config.json (0 when it cannot be read)."""
    try:
        config = json.loads((Path(model_dir) / "config.json").read_text())
    except (OSError, ValueError):
        return 0
    hidden, layers = config.get("hidden_size", 0), config.get("num_hidden_layers", 0)
    inner, vocab = config.get("intermediate_size", 4 * hidden), config.get("vocab_size", 0)
    return layers * (4 * hidden * hidden + 3 * hidden * inner) + vocab * hidden


def training_rate(cuda: bool = False) -> float:
    """This machine's rough sustained training FLOP/s."""
    return GPU_FLOPS if cuda else CPU_FLOPS_PER_CORE[job_module().native_bf16()] * job_module().training_threads()


def available_memory_gib() -> float:
    """Memory this machine has in total (0 when it cannot be read)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        return 0.0


def memory_gib(parameters: int, batch_size: int, tokens_per_row: int) -> float:
    """fp32 weights, LoRA optimiser state (small) and the logits of a batch, which dominate for small models."""
    weights = parameters * 4
    logits = batch_size * tokens_per_row * 49152 * 4 * 6  # logits, softmax, grads and loss copies at a 49k vocab
    return (weights + logits) / 2**30 + 1.0  # + the Python process and libraries


def estimate(parameters: int, steps: int, batch_size: int, tokens_per_row: int, cuda: bool = False) -> Estimate:
    """Cost is 6 FLOPs per parameter per token at this machine's measured rate."""
    tokens = steps * batch_size * tokens_per_row
    seconds = 6 * parameters * tokens / training_rate(cuda) if parameters else 0.0
    return Estimate(parameters, tokens, seconds, memory_gib(parameters, batch_size, tokens_per_row),
                    available_memory_gib())


def mean_tokens(rows: Any, fields: tuple[str, ...]) -> float:
    """Mean tokens per row (from characters) of conversational rows, the chat template's own tokens included."""
    count = len(rows)
    if not count:
        return 0.0
    return _tokens_per_row(sum(len(m["content"]) for row in rows for field in fields for m in row[field]), count)


def _tokens_per_row(chars: int, rows: int) -> float:
    """Characters of message content over rows, as tokens per row with the chat template's own tokens."""
    return chars / CHARS_PER_TOKEN / rows + TEMPLATE_TOKENS


def dataset_mean_tokens(dataset: Any, fields: tuple[str, ...]) -> float:
    """mean_tokens of a datasets.Dataset, counted on its Arrow columns (formatting 100k rows one by one took seconds)."""
    import pyarrow.compute as pc

    if not len(dataset):
        return 0.0
    columns = dataset.with_format("arrow")
    chars = sum(pc.sum(pc.utf8_length(pc.struct_field(pc.list_flatten(columns[field]), "content"))).as_py() or 0
                for field in fields)
    return _tokens_per_row(chars, len(dataset))


def rows_in_budget(plan: TrainPlan, parameters: int, tokens_per_row: float, cuda: bool = False,
                   share: float = 1.0) -> int:
    """How many SFT rows `share` of the plan's time budget trains on this hardware (fixed costs taken off first)."""
    if not plan.time_budget_minutes or not parameters or tokens_per_row <= 0:
        return 10**9
    seconds = (plan.time_budget_minutes * 60 * share - FIXED_SECONDS) * (1 - EVAL_SHARE)
    rate = training_rate(cuda) / (6 * parameters)
    return max(plan.batch_size, int(max(seconds, 0) * rate / tokens_per_row))


def dataset_stats(dataset_dir: Path) -> DatasetStats:
    """Rows and mean tokens (from characters) of an exported dataset's SFT and DPO train splits."""
    from datasets import load_from_disk

    stats = {}
    for name, fields in (("sft", ("messages",)), ("dpo", ("prompt", "chosen", "rejected"))):
        folder = dataset_dir / name
        if (folder / "dataset_dict.json").is_file():
            train = load_from_disk(str(folder))["train"]
            stats[f"{name}_rows"], stats[f"{name}_tokens"] = len(train), dataset_mean_tokens(train, fields)
    return DatasetStats(**stats)


def fit_to_budget(plan: TrainPlan, stats: DatasetStats, parameters: int, cuda: bool = False) -> TrainPlan:
    """Cap the stages left at -1 steps (whole epochs) so the run fits plan.time_budget_minutes."""
    if not plan.time_budget_minutes or not parameters:
        return plan
    rate = training_rate(cuda) / (6 * parameters)  # SFT tokens per second
    per_step = plan.batch_size * plan.gradient_accumulation
    methods = plan.method.split("+")
    seconds_per_step = {"sft": per_step * stats.sft_tokens / rate,
                        "dpo": per_step * stats.dpo_tokens * DPO_TOKEN_COST / rate}
    epoch_steps = {"sft": math.ceil(stats.sft_rows * plan.epochs / per_step),
                   "dpo": math.ceil(stats.dpo_rows * plan.epochs / per_step)}
    uncapped = [m for m in methods if getattr(plan, f"{m}_max_steps") == -1]
    budget = plan.time_budget_minutes * 60 - sum(
        getattr(plan, f"{m}_max_steps") * seconds_per_step[m] for m in methods if m not in uncapped)
    changes = {}
    for stage in uncapped:
        share = (SFT_SHARE if stage == "sft" else 1 - SFT_SHARE) if len(uncapped) == 2 else 1.0
        fits = int(max(budget, 0) * share / max(seconds_per_step[stage], 1e-9))
        if fits < epoch_steps[stage]:
            changes[f"{stage}_max_steps"] = max(fits, 1)
    return replace(plan, **changes)
