"""Train benchmark: ForkLift's local SFT against a plain SFTTrainer with default settings, same model, data and steps.

Run with `.venv/bin/python bench/train.py`. Each trainer runs in its own process (so peak RSS is its own); the
figures are real (non-padding) tokens per second of the training loop, peak RSS, and achieved model FLOP/s
(6 FLOPs per parameter per token) against this CPU's estimated peak. Prints the ratio; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from forklift_core.config import TrainPlan
from forklift_core.curate.export import export_dataset
from forklift_core.example import example_source
from forklift_core.generate.pipeline import generate
from forklift_core.ingest.index import ingest
from forklift_core.models import DEFAULT_LM_ID, resolve_lm
from forklift_core.train.estimate import parameter_count
from forklift_core.train.recipe import job_module
from forklift_core.workspace import Workspace

FP32_FLOPS_PER_CYCLE = 32  # two 256-bit FMA pipes: 2 x 8 lanes x 2 FLOPs per core per cycle (AVX2/AVX-512 on Zen)


def prepare(workspace: Workspace) -> tuple[Path, Path]:
    """The example project's exported dataset and the embedded SmolLM2 folder."""
    ingest(str(example_source()), "bench", workspace)
    generate("bench", workspace)
    out = workspace.root / "dataset"
    export_dataset(workspace.project("bench"), out, "hf", ("accepted", "pending"))
    return out, Path(resolve_lm(DEFAULT_LM_ID, workspace.models_dir).location)


def run_variant(variant: str, dataset: Path, model_dir: Path, steps: int, rows: int, out: Path) -> dict:
    """Train `steps` SFT steps with one variant's settings; return tokens, seconds and peak RSS."""
    import torch
    from datasets import load_from_disk
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    job = job_module()
    plan = {**TrainPlan(sft_max_steps=steps).to_dict(), "base_model_path": str(model_dir)}
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    train = job.sft_rows(load_from_disk(str(dataset / "sft"))["train"].shuffle(seed=1).select(range(rows)))
    if variant == "plain":
        # SFTTrainer's defaults; use_cpu is required on a machine without a GPU, the rest only measures.
        args = SFTConfig(output_dir=str(out), max_steps=steps, use_cpu=True, report_to="none", save_strategy="no",
                         include_num_input_tokens_seen="non_padding", disable_tqdm=True, seed=1)
    else:
        torch.set_num_threads(max(1, os.cpu_count() or 1))
        fitted = job.fit_rows(plan, train, tokenizer, ("prompt", "completion"))
        stage_plan, train = fitted.plan, fitted.rows
        args = job.sft_config({**stage_plan, "tensorboard": False}, out, has_eval=False)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    trainer = SFTTrainer(model=model, args=args, train_dataset=train, processing_class=tokenizer,
                         peft_config=job.lora_config(plan))
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    return {"variant": variant, "tokens": trainer.state.num_input_tokens_seen, "seconds": seconds,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "final_loss": next(r["loss"] for r in reversed(trainer.state.log_history) if "loss" in r)}


def peak_flops() -> float:
    """This CPU's fp32 peak: cores x clock x FLOPs per cycle (bf16 dot products double it where present)."""
    mhz = max(float(line.split(":")[1]) for line in Path("/proc/cpuinfo").read_text().splitlines()
              if line.startswith("cpu MHz"))
    return (os.cpu_count() or 1) * mhz * 1e6 * FP32_FLOPS_PER_CYCLE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--rows", type=int, default=2000, help="training rows sampled from the example dataset")
    parser.add_argument("--variant", help=argparse.SUPPRESS)  # set when this script runs one variant as a child
    parser.add_argument("--dataset", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--model", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        print(json.dumps(run_variant(args.variant, args.dataset, args.model, args.steps, args.rows, args.out)))
        return
    with tempfile.TemporaryDirectory() as scratch:
        workspace = Workspace(Path(scratch) / "ws")
        dataset, model_dir = prepare(workspace)
        parameters = parameter_count(str(model_dir))
        results = {}
        for variant in ("plain", "forklift"):
            child = subprocess.run([sys.executable, __file__, "--variant", variant, "--dataset", str(dataset),
                                    "--model", str(model_dir), "--out", str(Path(scratch) / variant),
                                    "--steps", str(args.steps), "--rows", str(args.rows)],
                                   capture_output=True, text=True, check=True)
            results[variant] = json.loads(child.stdout.strip().splitlines()[-1])
    peak = peak_flops()
    bf16_peak = peak * 2 if job_module().native_bf16() else peak  # AVX-512 BF16 dot products: twice the fp32 rate
    for variant, label in (("plain", "plain SFTTrainer defaults"), ("forklift", "ForkLift local SFT")):
        r = results[variant]
        rate = r["tokens"] / r["seconds"]
        flops = 6 * parameters * rate
        print(f"{label:>26}: {r['tokens']} real tokens in {r['seconds']:.1f} s = {rate:.1f} tokens/s; peak RSS "
              f"{r['peak_rss_mib']:.0f} MiB; {flops / 1e9:.0f} model GFLOP/s (6 per parameter per token) = "
              f"{flops / peak:.0%} of the fp32 peak ({peak / 1e9:.0f} GFLOP/s), {flops / bf16_peak:.0%} of the bf16 "
              f"peak ({bf16_peak / 1e9:.0f}); final loss {r['final_loss']:.3f}")
    ratio = (results["forklift"]["tokens"] / results["forklift"]["seconds"]) / (
        results["plain"]["tokens"] / results["plain"]["seconds"])
    print(f"ForkLift / plain tokens/s: {ratio:.2f}x ({args.steps} steps of batch 8 on SmolLM2-135M)")


if __name__ == "__main__":
    main()
