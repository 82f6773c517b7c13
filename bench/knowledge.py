"""Knowledge ablation: what each training choice adds to what the tuned model knows, on one or more repositories.

Run with `.venv/bin/python bench/knowledge.py [--repo example|requests|PATH] [--variants NAME,...]`. Every variant is
the whole loop after generation — train with the default 10-minute budget on the embedded SmolLM2, then evaluate
on the run's test split — so the figures are what a user gets. Variants (each one changes one thing from `default`):

- `before`: the plan of the previous release (no curriculum: a random share of one epoch; lr 2e-4; SFT then DPO)
- `default`: knowledge-first curriculum (3 phrasings × 3 passes of the most valuable facts), lr 1e-3, SFT only
- `lr3e-4`, `lr2e-3`: the default at another learning rate (the sweep behind the default)
- `dpo`: the default followed by DPO on the covered facts' preference pairs (80/20 time split)
- `no-abstain`: the default without the abstention family in the data
- `r8`, `r32`: the default at LoRA rank 8 or 32
- `no-grounded`: the default without the grounded rows (records among near misses in the prompt)
- `p2`, `p5`: the default with 2 or 5 passes over fewer or more facts (coverage against depth)

Prints one table row per variant (unseen phrasings: definition file, definition line ±3, fact accuracy over all
families; hallucination rate over all items; abstention on absent names never trained; tuned+guard hallucination;
grounded definition file; retention) and the base model's row. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from forklift_core.config import FAMILIES, EvalConfig, GenerateConfig, TrainPlan
from forklift_core.evaluate.pipeline import Evaluation
from forklift_core.evaluate.report import overall_row
from forklift_core.generate.pipeline import generate
from forklift_core.ingest.index import ingest
from forklift_core.train.launch import LocalLauncher
from forklift_core.workspace import Workspace

from repos import source_tree  # bench/ is the script's folder

VARIANTS: dict[str, dict[str, Any]] = {
    "before": {"curriculum": False, "learning_rate": 2e-4, "method": "sft+dpo"},
    "default": {},
    "lr3e-4": {"learning_rate": 3e-4},
    "lr2e-3": {"learning_rate": 2e-3},
    "dpo": {"method": "sft+dpo"},
    "no-abstain": {},  # the data differs, not the plan
    "r8": {"lora_r": 8, "lora_alpha": 16},
    "r32": {"lora_r": 32, "lora_alpha": 64},
    "no-grounded": {"grounded_rows": False},
    "p5": {"passes": 5},
    "p2": {"passes": 2},
}
COLUMNS = ("def file", "def line±3", "fact acc", "halluc.", "abstain", "guard halluc.", "grounded file",
           "grounded line±3", "grounded abstain", "retention")


def figures(report: dict[str, Any], system: str) -> dict[str, float]:
    """The issue's figures for one system of a report."""
    def value(kind: str, family: str, metric: str, name: str = system) -> float:
        row = overall_row(report, kind, family)
        return row.get(f"{name}/{metric}", float("nan")) if row else float("nan")

    return {
        "def file": value("unseen_phrasing", "definition_location", "file_accuracy"),
        "def line±3": value("unseen_phrasing", "definition_location", "fact_accuracy"),
        "fact acc": value("unseen_phrasing", "all", "fact_accuracy"),
        "halluc.": value("unseen_phrasing", "all", "hallucination_rate"),
        "abstain": value("unseen_phrasing", "absent_symbol", "fact_accuracy"),
        "guard halluc.": value("unseen_phrasing", "all", "hallucination_rate", system + "+guard")
        if system == "tuned" else float("nan"),
        "grounded file": value("unseen_phrasing", "definition_location", "file_accuracy", system + "+context"),
        "grounded line±3": value("unseen_phrasing", "definition_location", "fact_accuracy", system + "+context"),
        "grounded abstain": value("unseen_phrasing", "absent_symbol", "fact_accuracy", system + "+context"),
        "retention": report["retention"]["mean_similarity"] or float("nan") if system == "tuned" else 1.0,
    }


def run_variant(workspace: Workspace, project: str, name: str, limit: int, context: bool) -> dict[str, Any]:
    """Train one variant with the default budget and evaluate it; the figures and the run's own numbers."""
    launcher = LocalLauncher(workspace, project)
    plan = TrainPlan(pairs="accepted+pending", **VARIANTS[name])
    started = time.perf_counter()
    status = launcher.wait(launcher.start(plan), interval=5.0)
    train_seconds = time.perf_counter() - started
    if status.status != "completed":
        raise SystemExit(f"{name}: run {status.status}\n{launcher.logs(status.run_id)}")
    # Unseen phrasings of trained facts: what training can teach (held-out files are the evaluation's other kind).
    config = EvalConfig(limit=limit, with_context=context, grounded_base=False, test_kinds=("unseen_phrasing",))
    report = Evaluation(workspace, project, status.run_id, config).run()
    manifest = status.manifest
    return {"variant": name, "train_s": round(train_seconds, 1), "peak_rss_mb": manifest.get("peak_rss_mb"),
            "curriculum": (manifest.get("curriculum") or {}).get("summary", "all rows"),
            "tuned": figures(report, "tuned"), "base": figures(report, "base"), "run_id": status.run_id}


def print_row(label: str, values: dict[str, float]) -> None:
    """One markdown table row."""
    print(f"| {label} | " + " | ".join("–" if v != v else f"{v:.2f}" for v in (values[c] for c in COLUMNS)) + " |",
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", default="example", help="example, requests, or a folder")
    parser.add_argument("--variants", default="before,default,dpo,no-abstain,lr3e-4")
    parser.add_argument("--limit", type=int, default=160, help="test items per evaluation")
    parser.add_argument("--workspace", help="keep the workspace here (default: a temporary folder)")
    parser.add_argument("--out", type=Path, help="also write the results as JSON here")
    args = parser.parse_args()
    names = [n for n in args.variants.split(",") if n]
    unknown = set(names) - set(VARIANTS)
    if unknown:
        raise SystemExit(f"unknown variants: {', '.join(sorted(unknown))} (known: {', '.join(VARIANTS)})")
    with tempfile.TemporaryDirectory() as scratch:
        workspace = Workspace(Path(args.workspace or scratch))
        tree = source_tree(args.repo)
        started = time.perf_counter()
        ingest(str(tree), "bench", workspace)
        summary = generate("bench", workspace)
        print(f"{args.repo}: {summary['facts']} facts, {summary['sft_pairs']} Q&A pairs "
              f"({time.perf_counter() - started:.0f} s to ingest and generate)", flush=True)
        results = []
        print("| variant | " + " | ".join(COLUMNS) + " |\n|---|" + "---:|" * len(COLUMNS), flush=True)
        for name in names:
            project = "bench"
            if name == "no-abstain":
                project = "bench-no-abstain"
                if not workspace.project(project).exists():
                    ingest(str(tree), project, workspace)
                    generate(project, workspace, GenerateConfig(families=tuple(f for f in FAMILIES
                                                                                if f != "absent_symbol")))
            result = run_variant(workspace, project, name, args.limit, context=name in ("default", "no-grounded"))
            results.append(result)
            if len(results) == 1:
                print_row("base model", result["base"])
            print_row(f"{name} ({result['curriculum']}; {result['train_s'] / 60:.1f} min, "
                      f"{(result['peak_rss_mb'] or 0) / 1024:.1f} GiB)", result["tuned"])
        if args.out:
            args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
