# /// script
# requires-python = ">=3.11"
# dependencies = [
#     "torch==2.13.0",
#     "transformers>=5.0,<6",
#     "trl>=1.10,<2",
#     "peft>=0.18",
#     "datasets>=4.0",
#     "pyyaml>=6",
#     "tensorboard>=2.15",
# ]
# ///
"""ForkLift's training job: SFT then DPO with LoRA, in its own process, writing one run folder.

Self-contained on purpose (it imports nothing from forklift_core): the same file runs under `subprocess` here
and as a uv script on a remote GPU. Usage: python job.py --plan plan.yaml --dataset DIR --run-dir DIR

The run folder: plan.yaml · progress.jsonl (one JSON object per log) · sft/ and dpo/ (checkpoints) ·
tb/ (TensorBoard events per stage) · adapter/ (the final PEFT adapter) · manifest.json (status, figures, versions, hashes).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import resource
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SHAPE_MULTIPLE = 16  # sequence lengths are padded to a multiple of this
SFT_TIME_SHARE = 0.8  # of a shared time budget, when DPO follows SFT
STATUS_RUNNING, STATUS_DONE, STATUS_CANCELLED, STATUS_DIVERGED, STATUS_FAILED = (
    "running", "completed", "cancelled", "diverged", "failed")


# --- translators: plan (a dict read from plan.yaml) -> library objects -------------------------------------------

def lora_config(plan: dict[str, Any]) -> Any:
    """LoRA on every linear layer by default, as the plan says."""
    from peft import LoraConfig

    targets = plan.get("target_modules") or "all-linear"
    return LoraConfig(r=plan["lora_r"], lora_alpha=plan["lora_alpha"], lora_dropout=plan["lora_dropout"],
                      target_modules=targets, task_type="CAUSAL_LM", bias="none")


def quantization_config(plan: dict[str, Any], cuda: bool) -> Any:
    """4-bit NF4 with double quantisation and bf16 compute (QLoRA) when asked for, or 'auto' on CUDA."""
    wanted = plan["quantization"] == "4bit" or (plan["quantization"] == "auto" and cuda)
    if not wanted:
        return None
    import torch
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                              bnb_4bit_compute_dtype=torch.bfloat16)


def _common(plan: dict[str, Any], out: Path, has_eval: bool, steps_key: str) -> dict[str, Any]:
    bf16 = _bf16()
    return dict(
        output_dir=str(out), per_device_train_batch_size=plan["batch_size"],
        gradient_accumulation_steps=plan["gradient_accumulation"], learning_rate=plan["learning_rate"],
        lr_scheduler_type=plan["lr_scheduler"], num_train_epochs=plan["epochs"], max_steps=plan[steps_key],
        logging_steps=1, save_strategy="steps", save_steps=plan["save_steps"], save_total_limit=2,
        eval_strategy="steps" if has_eval else "no", eval_steps=plan["eval_steps"] if has_eval else None,
        per_device_eval_batch_size=plan["batch_size"], seed=plan["seed"], data_seed=plan["seed"],
        report_to=["tensorboard"] if plan.get("tensorboard") and _has_tensorboard() else "none",
        activation_checkpointing=False,  # small models on CPU: recomputation costs more than it saves
        use_cpu=not _cuda(), bf16=bf16, dataloader_num_workers=0, disable_tqdm=True,
        max_grad_norm=plan["max_grad_norm"], include_num_input_tokens_seen="non_padding",
        # Evaluation keeps the loss only: gathering every row's full-vocabulary logits took gigabytes.
        prediction_loss_only=True,
    )


def sft_config(plan: dict[str, Any], out: Path, has_eval: bool) -> Any:
    """SFT on prompt/completion pairs: the loss covers the assistant's answer only."""
    from trl import SFTConfig

    # Rows of similar length share a batch, so little compute goes to padding (padding-free batches would need
    # flash attention to keep rows apart, which a CPU does not have).
    # Lengths padded to a multiple of 16: a handful of batch shapes instead of one per length, so the CPU kernels
    # built (and cached) per shape are reused.
    return SFTConfig(**_common(plan, out, has_eval, "sft_max_steps"), max_length=plan["max_length"],
                     completion_only_loss=True, packing=False, train_sampling_strategy="group_by_length",
                     pad_to_multiple_of=SHAPE_MULTIPLE)


def dpo_config(plan: dict[str, Any], out: Path, has_eval: bool) -> Any:
    """DPO with the plan's beta, continuing the SFT adapter."""
    from trl import DPOConfig

    common = _common(plan, out, has_eval, "dpo_max_steps")
    # Each DPO row is two sequences (chosen and rejected) whose full-vocabulary logits dominate memory: half the
    # rows per step, twice the accumulation, the same effective batch.
    half = max(1, plan["batch_size"] // 2)
    common.update(per_device_train_batch_size=half, per_device_eval_batch_size=half,
                  gradient_accumulation_steps=plan["gradient_accumulation"] * plan["batch_size"] // half)
    return DPOConfig(**common, beta=plan["dpo_beta"], max_length=plan["max_length"], pad_to_multiple_of=SHAPE_MULTIPLE)


def training_threads() -> int:
    """Every core, unless OMP_NUM_THREADS says how many (a machine shared with other work: more threads than cores
    spin on one another)."""
    try:
        return max(1, int(os.environ.get("OMP_NUM_THREADS", "")))
    except ValueError:  # unset, or OpenMP's nested form ("4,2")
        return max(1, os.cpu_count() or 1)


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def native_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX-512 BF16 or AMX): bf16 autocast is then faster than fp32."""
    try:
        import torch

        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (ImportError, AttributeError, RuntimeError):
        return False


def _bf16() -> bool:
    return _cuda() or native_bf16()


def _has_tensorboard() -> bool:
    import importlib.util

    return importlib.util.find_spec("tensorboard") is not None


# --- data ---------------------------------------------------------------------------------------------------------

def _load(dataset: str, config_name: str) -> Any:
    """A DatasetDict exported by ForkLift (save_to_disk, jsonl or parquet), or a Hub id with that config."""
    from datasets import load_dataset, load_from_disk

    folder = Path(dataset) / config_name
    if (folder / "dataset_dict.json").is_file():
        return load_from_disk(str(folder))
    for extension, builder in (("jsonl", "json"), ("parquet", "parquet")):
        files = {p.stem: str(p) for p in folder.glob(f"*.{extension}")}
        if files:
            return load_dataset(builder, data_files=files)
    if not Path(dataset).exists():
        return load_dataset(dataset, config_name)
    raise FileNotFoundError(f"no {config_name} data in {dataset}")


def sft_rows(dataset: Any) -> Any:
    """messages -> conversational prompt/completion (the last assistant turn is the completion)."""
    return dataset.map(lambda row: {"prompt": row["messages"][:-1], "completion": row["messages"][-1:]},
                       remove_columns=dataset.column_names)


LONGEST_AUTO_LENGTH = 1024  # max_length 0 (auto) never goes beyond this; longer rows are dropped and counted
TOKENIZE_BATCH = 256  # conversations per batched chat-template call
FIRST_SLICE = 64  # the fewest rows measured at once when only some are needed (each next slice is twice as large)


def token_lengths(dataset: Any, tokenizer: Any, fields: tuple[str, ...]) -> list[int]:
    """Tokens of each row's full conversation (prompt and answer) under the model's chat template."""
    # Whole Arrow columns: iterating a datasets.Dataset (or its columns) formats every row, which cost more than
    # tokenizing them.
    columns = [dataset.with_format("arrow")[field].to_pylist() for field in fields]
    conversations = [[message for part in parts for message in part] for parts in zip(*columns)]
    lengths: list[int] = []
    for start in range(0, len(conversations), TOKENIZE_BATCH):
        encoded = tokenizer.apply_chat_template(conversations[start:start + TOKENIZE_BATCH], tokenize=True)
        # transformers 5 returns a BatchEncoding, older versions a plain list of token lists.
        lengths.extend(len(ids) for ids in (encoded["input_ids"] if hasattr(encoded, "keys") else encoded))
    return lengths


def auto_max_length(lengths: list[int]) -> int:
    """The longest row, rounded up to a multiple of 8 and capped: no answer is cut, padding stays small."""
    longest = max(lengths, default=8)
    return min(LONGEST_AUTO_LENGTH, -(-longest // 8) * 8)


@dataclass
class FittedRows:
    """The rows a stage trains on, its plan with max_length settled, and how many rows were measured to find them."""

    plan: dict[str, Any]
    rows: Any
    checked: int  # rows whose length was measured
    dropped: int  # of those, rows longer than max_length: truncating them would cut the answer away (a silent 0 loss)


def fit_rows(plan: dict[str, Any], dataset: Any, tokenizer: Any, *conversations: tuple[str, ...],
             needed: int = 0, seed: int = 0) -> FittedRows:
    """The rows that fit and the stage's plan with max_length settled (auto when 0); a row's longest conversation
    (chosen or rejected, for DPO) decides.

    With `needed` (the rows a fixed number of steps reaches) rows are drawn in the seed's order and measured in
    growing slices until that many fit: a 50-step try on 100k rows does not wait for all of them to be tokenized.
    Without it every row is measured, and kept if it fits."""
    limit = plan["max_length"] or LONGEST_AUTO_LENGTH
    partial = 0 < needed < len(dataset)
    order = dataset.shuffle(seed=seed) if partial else dataset
    kept: list[int] = []
    lengths: list[int] = []
    start, size, dropped = 0, max(2 * needed, FIRST_SLICE), 0
    while start < len(order) and not (partial and len(kept) >= needed):
        piece = order.select(range(start, min(start + size, len(order))))
        measured = [max(each) for each in zip(*(token_lengths(piece, tokenizer, c) for c in conversations))]
        for offset, length in enumerate(measured):
            if length > limit:
                dropped += 1
            else:
                kept.append(start + offset)
                lengths.append(length)
        start, size = start + len(piece), size * 2
    if not kept and len(dataset):
        raise ValueError(f"every training row is longer than max_length={limit} tokens")
    if partial:
        kept, lengths = kept[:needed], lengths[:needed]
    stage_plan = {**plan, "max_length": plan["max_length"] or auto_max_length(lengths)}
    return FittedRows(stage_plan, order.select(kept), checked=start, dropped=dropped)


# --- progress, divergence and cancellation -----------------------------------------------------------------------

class RunState:
    """What the callbacks and the signal handler share."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.stop_requested = False
        self.diverged = False
        self.stage = ""
        self.started = self.stage_started = time.time()
        self.stage_deadline: float | None = None  # wall-clock time the stage must end by (None: no budget)
        self.out_of_time = False

    def time_progress(self) -> float:
        """How much of the stage's time is spent (0 without a budget)."""
        if self.stage_deadline is None:
            return 0.0
        return (time.time() - self.stage_started) / max(self.stage_deadline - self.stage_started, 1e-6)


SAVE_RESERVE_S = 8.0  # the adapter save and manifest after the last step, kept out of the budget for steps


def stage_deadline(plan: dict[str, Any], state_box: RunState, stages_left: int, share: float) -> float | None:
    """When this stage must stop: its share of what is left of the run's time budget (None: no budget)."""
    budget = float(plan.get("time_budget_minutes") or 0) * 60
    if budget <= 0:
        return None
    remaining = state_box.started + budget - SAVE_RESERVE_S * stages_left - time.time()
    return time.time() + max(remaining * share, 1.0)


def time_aware_schedule(trainer: Any, state_box: RunState, warmup_fraction: float = 0.05,
                        floor: float = 0.05) -> None:
    """Warmup then cosine decay over whichever runs out first, the steps or the stage's time.

    Throughput measured while training re-plans the run: when the steps would not fit the time, the learning rate
    anneals by the clock instead and the stage ends on time with a fully decayed rate, never cut mid-schedule.
    """
    from torch.optim.lr_scheduler import LambdaLR

    def create_scheduler(num_training_steps: int, optimizer: Any = None) -> Any:
        warmup = max(1, int(num_training_steps * warmup_fraction))

        def factor(step: int) -> float:
            by_time = state_box.time_progress()
            progress = min(1.0, max(step / max(num_training_steps, 1), by_time))
            warmed = min(1.0, max((step + 1) / warmup, by_time / warmup_fraction))  # warmup by steps or by time
            return warmed * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress)))

        if trainer.lr_scheduler is None:
            trainer.lr_scheduler = LambdaLR(optimizer or trainer.optimizer, factor)
        return trainer.lr_scheduler

    trainer.create_scheduler = create_scheduler


def progress_callback(state_box: RunState) -> Any:
    """A TrainerCallback appending progress.jsonl, stopping on a non-finite loss and on SIGTERM."""
    from transformers import TrainerCallback

    class Progress(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):  # type: ignore[no-untyped-def]
            logs = dict(logs or {})
            elapsed = time.time() - state_box.started
            done = state.global_step / max(state.max_steps, 1)
            stage_seconds = time.time() - state_box.stage_started
            tokens = state.num_input_tokens_seen
            record = {"stage": state_box.stage, "step": state.global_step, "max_steps": state.max_steps,
                      "epoch": state.epoch, "time": round(elapsed, 2),
                      "tokens_per_s": round(tokens / stage_seconds, 1) if tokens and stage_seconds > 0 else None,
                      "eta_s": round(elapsed / done - elapsed, 1) if done > 0 else None, **logs}
            with open(state_box.run_dir / "progress.jsonl", "a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")
            for key in ("loss", "grad_norm"):
                value = logs.get(key)
                if isinstance(value, (int, float)) and not math.isfinite(value):
                    state_box.diverged = True
                    control.should_training_stop = True

        def on_step_end(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
            if state_box.stop_requested:
                control.should_save = True  # a checkpoint first, so a rerun resumes from here
                control.should_training_stop = True
            elif state_box.stage_deadline is not None and time.time() >= state_box.stage_deadline:
                state_box.out_of_time = True  # the time budget is spent: the rate has annealed, the stage ends
                control.should_training_stop = True
                control.should_evaluate = False

    return Progress()


def last_checkpoint(folder: Path) -> str | None:
    """The newest checkpoint-N folder under a stage folder."""
    found = sorted(folder.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1])) if folder.is_dir() else []
    return str(found[-1]) if found else None


# --- the run ------------------------------------------------------------------------------------------------------

def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(file.read_bytes())
    return digest.hexdigest()


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for name in ("torch", "transformers", "trl", "peft", "datasets"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = ""
    return out


def _write_manifest(run_dir: Path, data: dict[str, Any]) -> None:
    path = run_dir / "manifest.json"
    current = json.loads(path.read_text()) if path.is_file() else {}
    current.update(data)
    temp = path.with_suffix(".tmp")
    temp.write_text(json.dumps(current, indent=2, default=str))
    os.replace(temp, path)


def _tensorboard_dir(run_dir: Path, stage: str) -> None:
    """TensorBoard's callback reads its folder from the environment when the trainer is built: tb/<stage>."""
    os.environ["TENSORBOARD_LOGGING_DIR"] = str(run_dir / "tb" / stage)


def _train_stage(name: str, trainer: Any, state_box: RunState, out: Path, deadline: float | None) -> None:
    state_box.stage, state_box.stage_started, state_box.stage_deadline = name, time.time(), deadline
    if deadline is not None:
        time_aware_schedule(trainer, state_box)
    trainer.train(resume_from_checkpoint=last_checkpoint(out))


def eval_subset(dataset: Any, rows: int, seed: int) -> Any:
    """A fixed sample of the validation rows: the curve stays informative and evaluation stays cheap."""
    if dataset is None or not rows or len(dataset) <= rows:
        return dataset
    return dataset.shuffle(seed=seed).select(range(rows))


def rows_for_steps(max_steps: int, rows_per_step: int) -> int:
    """The rows a fixed number of steps reaches (0: no step limit, every row may be reached)."""
    return max(0, max_steps) * rows_per_step


def stage_figures(stage: str, data: Any, fitted: FittedRows) -> dict[str, Any]:
    """What the manifest says of a stage's rows: how many the data holds, were measured, dropped and trained on."""
    return {f"{stage}_train_rows": len(data), f"{stage}_rows_checked": fitted.checked,
            f"{stage}_dropped_too_long": fitted.dropped, f"{stage}_rows_used": len(fitted.rows),
            f"{stage}_max_length": fitted.plan["max_length"]}


def run(plan_path: Path, dataset: str, run_dir: Path) -> str:
    """Run the plan's stages into run_dir and return the final status."""
    import torch
    import yaml
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer, set_seed
    from trl import DPOTrainer, SFTTrainer

    plan = yaml.safe_load(plan_path.read_text())
    run_dir.mkdir(parents=True, exist_ok=True)
    state_box = RunState(run_dir)
    signal.signal(signal.SIGTERM, lambda *_: setattr(state_box, "stop_requested", True))
    base = plan["base_model_path"] or plan["base_model"]  # a remote job loads the base by its Hub id
    _write_manifest(run_dir, {"status": STATUS_RUNNING, "pid": os.getpid(), "plan": plan, "dataset": dataset,
                              "base_model": base, "seed": plan["seed"], "versions": _versions(),
                              "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    set_seed(plan["seed"])
    torch.set_num_threads(training_threads())
    tokenizer = AutoTokenizer.from_pretrained(base)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    quant = quantization_config(plan, _cuda())
    load = lambda: AutoModelForCausalLM.from_pretrained(  # noqa: E731 - used twice below
        base, dtype=torch.bfloat16 if _cuda() else torch.float32, quantization_config=quant)
    figures: dict[str, Any] = {}
    sft_adapter = run_dir / "sft" / "adapter"
    methods = plan["method"].split("+")
    rows_per_step = plan["batch_size"] * plan["gradient_accumulation"]
    if "sft" in methods and not (sft_adapter / "adapter_config.json").is_file():
        data = _load(dataset, "sft")
        fitted = fit_rows(plan, data["train"], tokenizer, ("messages",),
                          needed=rows_for_steps(plan["sft_max_steps"], rows_per_step), seed=plan["seed"])
        stage_plan, train = fitted.plan, sft_rows(fitted.rows)
        evaluation = eval_subset(data["validation"] if "validation" in data else None, plan.get("eval_rows", 0),
                                 plan["seed"])
        evaluation = sft_rows(evaluation) if evaluation is not None else None
        figures.update(stage_figures("sft", data["train"], fitted))
        _write_manifest(run_dir, figures)  # the app shows the dropped count while the stage runs
        _tensorboard_dir(run_dir, "sft")
        trainer = SFTTrainer(model=load(), args=sft_config(stage_plan, run_dir / "sft", evaluation is not None),
                             train_dataset=train, eval_dataset=evaluation, processing_class=tokenizer,
                             peft_config=lora_config(plan), callbacks=[progress_callback(state_box)])
        _train_stage("sft", trainer, state_box, run_dir / "sft",
                     stage_deadline(plan, state_box, len(methods), SFT_TIME_SHARE if "dpo" in methods else 1.0))
        figures["sft_steps_done"] = trainer.state.global_step
        figures["sft_rows_seen"] = trainer.state.global_step * rows_per_step
        figures["sft_ended_by_time_budget"] = state_box.out_of_time
        figures["sft_final_loss"] = next((r["loss"] for r in reversed(trainer.state.log_history) if "loss" in r), None)
        if state_box.diverged or state_box.stop_requested:
            return _finish(run_dir, state_box, figures)
        trainer.model.save_pretrained(sft_adapter)
    if "dpo" in methods:
        data = _load(dataset, "dpo")
        keep = ["prompt", "chosen", "rejected"]
        fitted = fit_rows(plan, data["train"].select_columns(keep), tokenizer, ("prompt", "chosen"),
                          ("prompt", "rejected"), needed=rows_for_steps(plan["dpo_max_steps"], rows_per_step),
                          seed=plan["seed"])
        stage_plan, train = fitted.plan, fitted.rows
        evaluation = eval_subset(data["validation"].select_columns(keep) if "validation" in data else None,
                                 plan.get("eval_rows", 0), plan["seed"])
        figures.update(stage_figures("dpo", data["train"], fitted))
        _write_manifest(run_dir, figures)
        _tensorboard_dir(run_dir, "dpo")
        base = load()
        if (sft_adapter / "adapter_config.json").is_file():
            # DPO continues the SFT adapter; the reference is the same model with the adapter switched off.
            model, peft_config = PeftModel.from_pretrained(base, str(sft_adapter), is_trainable=True), None
        else:
            model, peft_config = base, lora_config(plan)
        trainer = DPOTrainer(model=model, args=dpo_config(stage_plan, run_dir / "dpo", evaluation is not None),
                             train_dataset=train, eval_dataset=evaluation, processing_class=tokenizer,
                             peft_config=peft_config, callbacks=[progress_callback(state_box)])
        _train_stage("dpo", trainer, state_box, run_dir / "dpo", stage_deadline(plan, state_box, 1, 1.0))
        figures["dpo_steps_done"] = trainer.state.global_step
        figures["dpo_ended_by_time_budget"] = state_box.out_of_time
        figures["dpo_final_loss"] = next((r["loss"] for r in reversed(trainer.state.log_history) if "loss" in r), None)
        if state_box.diverged or state_box.stop_requested:
            return _finish(run_dir, state_box, figures)
        trainer.model.save_pretrained(run_dir / "adapter")
    elif (sft_adapter / "adapter_config.json").is_file():
        import shutil

        shutil.copytree(sft_adapter, run_dir / "adapter", dirs_exist_ok=True)
    figures["adapter_sha256"] = _sha256(run_dir / "adapter")
    return _finish(run_dir, state_box, figures)


def _finish(run_dir: Path, state_box: RunState, figures: dict[str, Any]) -> str:
    status = STATUS_DIVERGED if state_box.diverged else STATUS_CANCELLED if state_box.stop_requested else STATUS_DONE
    _write_manifest(run_dir, {**figures, "status": status, "wall_seconds": round(time.time() - state_box.started, 1),
                              "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                              "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    return status


# What a warm start imports ahead: the modules and the names run() takes from them.
PRELOADED = {"datasets": (), "torch": (), "yaml": (), "peft": ("LoraConfig", "PeftModel"),
             "transformers": ("AutoModelForCausalLM", "AutoTokenizer", "TrainerCallback"),
             "trl": ("DPOConfig", "DPOTrainer", "SFTConfig", "SFTTrainer")}


def preload() -> None:
    """Import the training stack once (the warm job server does, then forks jobs that need not import it again)."""
    import importlib

    for module_name, names in PRELOADED.items():
        module = importlib.import_module(module_name)
        for name in names:
            getattr(module, name)  # the stack's lazy modules import a name's code on first access


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plan", required=True, type=Path)
    parser.add_argument("--dataset", required=True, help="an exported dataset folder, or a Hub dataset id")
    parser.add_argument("--run-dir", required=True, type=Path)
    args = parser.parse_args()
    try:
        status = run(args.plan, args.dataset, args.run_dir)
    except Exception as exc:  # the manifest records why; the exit code says it failed
        _write_manifest(args.run_dir, {"status": STATUS_FAILED, "error": f"{type(exc).__name__}: {exc}"})
        raise
    return 0 if status == STATUS_DONE else 3 if status == STATUS_DIVERGED else 4


if __name__ == "__main__":
    sys.exit(main())
