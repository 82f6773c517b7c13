"""The whole loop, measured: ingest → generate → train (default plan, embedded SmolLM2) → evaluate, on the example.

Run with `.venv/bin/python bench/loop.py`. Prints each stage's time, base vs tuned figures per metric and test kind,
the goals of the evaluation issue met or missed, then evaluation items/s batched vs one at a time and embedding
scoring pairs/s. Asserts nothing.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from forklift_core.config import EvalConfig, TrainPlan
from forklift_core.evaluate.answering import TUNED, answer_all
from forklift_core.evaluate.items import eval_items
from forklift_core.evaluate.metrics import cosine
from forklift_core.evaluate.pipeline import Evaluation
from forklift_core.evaluate.report import METRICS, overall_row
from forklift_core.example import example_source
from forklift_core.generate.pipeline import generate
from forklift_core.ingest.index import ingest
from forklift_core.train.launch import LocalLauncher
from forklift_core.workspace import Workspace

PROJECT = "loop"


def timed(label: str, times: dict[str, float], work):  # type: ignore[no-untyped-def]
    """Run work(), record and print its wall time."""
    started = time.perf_counter()
    result = work()
    times[label] = time.perf_counter() - started
    print(f"{label:>9}: {times[label]:7.1f} s", flush=True)
    return result


def print_table(report: dict) -> None:
    """Base → tuned per metric for every test kind, and the with-context systems."""
    for kind in ("unseen_phrasing", "held_out_fact", "all"):
        for family in ("definition_location", "all"):
            row = overall_row(report, kind, family)
            if not row:
                continue
            cells = "  ".join(f"{m} {row[f'base/{m}']:.2f}→{row[f'tuned/{m}']:.2f}" for m in METRICS)
            print(f"  {family:>19} / {kind:<15} n={row['n']:<4} {cells}")
    for system in report["systems"]:
        values = report["overall"][system]
        print(f"  {system:>15}: " + "  ".join(f"{m}={values[m]:.2f}" for m in METRICS))


def print_goals(report: dict) -> None:
    """The evaluation issue's goals for the default loop on a 2-core CPU."""
    definition = overall_row(report, "unseen_phrasing", "definition_location")
    everything = overall_row(report)
    retention = report["retention"]["mean_similarity"] or 0.0
    goals = [
        ("definition accuracy on unseen phrasings ≥ 0.80", definition.get("tuned/fact_accuracy", 0) >= 0.8,
         f"{definition.get('base/fact_accuracy', 0):.2f} → {definition.get('tuned/fact_accuracy', 0):.2f}"),
        ("mean similarity up by ≥ 0.20", everything["delta/similarity"] >= 0.2, f"{everything['delta/similarity']:+.2f}"),
        ("hallucination rate halved", everything["tuned/hallucination_rate"] <= everything["base/hallucination_rate"] / 2,
         f"{everything['base/hallucination_rate']:.2f} → {everything['tuned/hallucination_rate']:.2f}"),
        ("retention similarity ≥ 0.80", retention >= 0.8, f"{retention:.2f}"),
    ]
    for label, met, figure in goals:
        print(f"  {'met   ' if met else 'MISSED'} {label}: {figure}")


def throughput(evaluation: Evaluation, items: int, batch_size: int) -> None:
    """Evaluation answers/s in batches against one at a time, and embedding similarity pairs/s."""
    questions = [i.question for i in eval_items(evaluation.run_dir / "dataset", evaluation.store, items, 7)]
    rates = {}
    for label, size in (("one at a time", 1), (f"batches of {batch_size}", batch_size)):
        started = time.perf_counter()
        answers = answer_all(evaluation.models, TUNED, questions, size, evaluation.config.max_new_tokens)
        rates[label] = len(questions) / (time.perf_counter() - started)
        print(f"  eval answers {label:>15}: {rates[label]:.2f} items/s")
    print(f"  batched / sequential: {rates[f'batches of {batch_size}'] / rates['one at a time']:.2f}x")
    texts = answers * max(1, 2000 // max(len(answers), 1))
    started = time.perf_counter()
    cosine(evaluation.embedder, texts, list(reversed(texts)))
    print(f"  embedding similarity: {len(texts) / (time.perf_counter() - started):.0f} pairs/s ({len(texts)} pairs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=EvalConfig().limit, help="test items to evaluate")
    parser.add_argument("--throughput-items", type=int, default=32)
    args = parser.parse_args()
    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as scratch:
        workspace = Workspace(Path(scratch) / "ws")
        timed("ingest", times, lambda: ingest(str(example_source()), PROJECT, workspace))
        summary = timed("generate", times, lambda: generate(PROJECT, workspace))
        print(f"           {summary['facts']} facts, {summary['sft_pairs']} Q&A and {summary['dpo_pairs']} preference pairs")
        launcher = LocalLauncher(workspace, PROJECT)
        plan = TrainPlan(pairs="accepted+pending")  # the default plan; nothing is reviewed in an unattended run
        status = timed("train", times, lambda: launcher.wait(launcher.start(plan), interval=5.0))
        manifest = status.manifest
        evals = [r for r in status.progress if "eval_loss" in r and r["stage"] == "sft"]
        print(f"           {status.status}; SFT {manifest['plan']['sft_max_steps']} steps, DPO "
              f"{manifest['plan']['dpo_max_steps']} steps; SFT validation loss {evals[0]['eval_loss']:.3f} → "
              f"{evals[-1]['eval_loss']:.3f}; peak RSS {manifest.get('peak_rss_mb', 0):.0f} MiB")
        evaluation = Evaluation(workspace, PROJECT, status.run_id, EvalConfig(limit=args.limit))
        report = timed("evaluate", times, evaluation.run)
        print(f"    total: {sum(times.values()) / 60:7.1f} min (goal < 20 min)")
        print(f"  {report['item_count']} test items; base → tuned:")
        print_table(report)
        print(f"  retention similarity: {report['retention']['mean_similarity']:.3f}")
        print("goals:")
        print_goals(report)
        print("throughput:")
        throughput(evaluation, args.throughput_items, evaluation.config.batch_size)


if __name__ == "__main__":
    main()
