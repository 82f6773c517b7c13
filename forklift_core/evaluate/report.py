"""The evaluation report: metrics per system, family and test kind; deltas; worst regressions; JSON, Markdown, charts."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from statistics import fmean
from typing import Any, Sequence

from forklift_core.workspace import write_json_atomic

METRICS = ("similarity", "chrf", "fact_accuracy", "file_accuracy", "safe_rate", "hallucination_rate")
ALL = "all"


def item_metrics(scored: dict[str, Any]) -> dict[str, float]:
    """One answer's metrics as numbers (booleans become 0/1, so means are rates)."""
    hallucinated = bool(scored["unknown_names"])
    # Safe: the grounded answer, or an abstention that invents nothing (the right closed-book answer to a fact
    # never trained on, and the only right answer about a name that is not there).
    safe = scored["correct"] or (scored.get("abstains", False) and not hallucinated)
    return {"similarity": scored["similarity"], "chrf": scored["chrf"], "fact_accuracy": float(scored["correct"]),
            "file_accuracy": float(scored.get("file_correct", scored["correct"])), "safe_rate": float(safe),
            "hallucination_rate": float(hallucinated)}


def aggregate(items: Sequence[dict[str, Any]], scored: Sequence[dict[str, Any]],
              key: Any) -> dict[tuple[str, str], dict[str, float]]:
    """Mean metrics per group; key(item) gives (family, test kind) or a coarser grouping."""
    groups: dict[tuple[str, str], list[dict[str, float]]] = defaultdict(list)
    for item, result in zip(items, scored):
        for group in key(item):
            groups[group].append(item_metrics(result))
    return {g: {m: fmean(r[m] for r in rows) for m in METRICS} | {"n": len(rows)} for g, rows in groups.items()}


def _groups(item: dict[str, Any]) -> list[tuple[str, str]]:
    """Every item counts in its own (family, kind), in (family, all), (all, kind) and (all, all)."""
    family, kind = item["family"], item["test_kind"]
    return [(family, kind), (family, ALL), (ALL, kind), (ALL, ALL)]


def build_report(run_id: str, items: Sequence[dict[str, Any]], results: dict[str, list[dict[str, Any]]],
                 retention: Sequence[dict[str, Any]], extra: dict[str, Any]) -> dict[str, Any]:
    """Summary tables, per-item answers and the worst regressions of tuned against base."""
    tables = {system: aggregate(items, scored, _groups) for system, scored in results.items()}
    rows = []
    for group in sorted(tables["base"], key=lambda g: (g[0] == ALL, g[0], g[1] == ALL, g[1])):
        row: dict[str, Any] = {"family": group[0], "test_kind": group[1], "n": tables["base"][group]["n"]}
        for system, table in tables.items():
            for metric in METRICS:
                row[f"{system}/{metric}"] = round(table[group][metric], 4)
        for metric in METRICS:
            row[f"delta/{metric}"] = round(row[f"tuned/{metric}"] - row[f"base/{metric}"], 4)
        rows.append(row)
    per_item = [{**item, "answers": {system: results[system][i] for system in results}} for i, item in enumerate(items)]
    drops = sorted(per_item, key=lambda r: r["answers"]["tuned"]["similarity"] - r["answers"]["base"]["similarity"])
    worst = [r for r in drops if r["answers"]["tuned"]["similarity"] < r["answers"]["base"]["similarity"]][:10]
    retention_mean = fmean(r["similarity"] for r in retention) if retention else None
    return {"run_id": run_id, "systems": list(results), "metrics": list(METRICS), "table": rows,
            "overall": {system: tables[system][(ALL, ALL)] for system in results},
            "retention": {"mean_similarity": retention_mean, "items": list(retention)},
            "worst_regressions": worst, "items": per_item, **extra}


def overall_row(report: dict[str, Any], test_kind: str = ALL, family: str = ALL) -> dict[str, Any]:
    """The table row of one family and test kind (all, all by default)."""
    return next((r for r in report["table"] if r["family"] == family and r["test_kind"] == test_kind), {})


def render_markdown(report: dict[str, Any]) -> str:
    """The report as Markdown: headline, the table per family and test kind, retention, worst regressions."""
    lines = [f"# Evaluation of run {report['run_id']}", "",
             f"{report['item_count']} test items; greedy answers; systems: {', '.join(report['systems'])}.", "",
             "![base vs tuned](metrics.png)", "", "![similarity histogram](similarity.png)", "",
             "| family | test kind | n | " + " | ".join(f"{m} base → tuned (Δ)" for m in METRICS) + " |",
             "|---|---|---:|" + "---:|" * len(METRICS)]
    for row in report["table"]:
        cells = [f"{row[f'base/{m}']:.2f} → {row[f'tuned/{m}']:.2f} ({row[f'delta/{m}']:+.2f})" for m in METRICS]
        lines.append(f"| {row['family']} | {row['test_kind']} | {row['n']} | " + " | ".join(cells) + " |")
    context = [s for s in report["systems"] if s.endswith("+context")]
    if context:
        lines += ["", "## With retrieved evidence in the prompt (all items)", "",
                  "| system | " + " | ".join(METRICS) + " |", "|---|" + "---:|" * len(METRICS)]
        for system in report["systems"]:
            values = report["overall"][system]
            lines.append(f"| {system} | " + " | ".join(f"{values[m]:.2f}" for m in METRICS) + " |")
    retention = report["retention"]["mean_similarity"]
    if retention is not None:
        lines += ["", f"**Retention**: tuned answers to {len(report['retention']['items'])} general programming "
                      f"prompts have a mean similarity of {retention:.2f} to the base model's."]
    if report["worst_regressions"]:
        lines += ["", "## Worst regressions (similarity to the reference, tuned below base)", ""]
        for r in report["worst_regressions"]:
            base, tuned = r["answers"]["base"], r["answers"]["tuned"]
            lines += [f"- **{r['question']}** ({r['family']}, {r['test_kind']})",
                      f"  - reference: {r['reference']}",
                      f"  - base ({base['similarity']:.2f}): {base['text']}",
                      f"  - tuned ({tuned['similarity']:.2f}): {tuned['text']}"]
    return "\n".join(lines) + "\n"


def plot_report(report: dict[str, Any], folder: Path) -> None:
    """metrics.png (base vs tuned per metric) and similarity.png (histogram of per-item similarity)."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    overall = report["overall"]
    figure, axes = plt.subplots(figsize=(7, 3.5))
    width = 0.8 / len(report["systems"])
    for n, system in enumerate(report["systems"]):
        axes.bar([i + n * width for i in range(len(METRICS))], [overall[system][m] for m in METRICS], width,
                 label=system)
    axes.set_xticks([i + width * (len(report["systems"]) - 1) / 2 for i in range(len(METRICS))], METRICS)
    axes.set_ylim(0, 1)
    axes.legend()
    figure.tight_layout()
    figure.savefig(folder / "metrics.png", dpi=100)
    plt.close(figure)
    figure, axes = plt.subplots(figsize=(7, 3.5))
    for system in ("base", "tuned"):
        axes.hist([r["answers"][system]["similarity"] for r in report["items"]], bins=20, range=(0, 1), alpha=0.6,
                  label=system)
    axes.set_xlabel("similarity to the reference")
    axes.legend()
    figure.tight_layout()
    figure.savefig(folder / "similarity.png", dpi=100)
    plt.close(figure)


def write_report(report: dict[str, Any], folder: Path) -> None:
    """report.json, report.md and the two charts in the run's eval/ folder."""
    folder.mkdir(parents=True, exist_ok=True)
    write_json_atomic(folder / "report.json", report)
    (folder / "report.md").write_text(render_markdown(report), encoding="utf-8")
    plot_report(report, folder)


def read_report(folder: Path) -> dict[str, Any] | None:
    """A run's saved report, if it was evaluated."""
    path = folder / "report.json"
    return json.loads(path.read_text()) if path.is_file() else None
