"""Generate tab: write grounded Q&A and preference pairs from an ingested project, then export them."""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from forklift_core.config import GenerateConfig
from forklift_core.curate.export import DEFAULT_STATUSES, UNREVIEWED, export_dataset
from forklift_core.curate.store import CurationStore, store_line
from forklift_core.generate.pipeline import generate
from forklift_core.progress import Progress
from forklift_core.ui.common import AppSettings, CancelFlags, user_errors, writer

SAMPLE_COLUMNS = ["split", "family", "question", "answer", "status"]
_CANCEL_FLAGS = CancelFlags()


def counts_markdown(summary: dict[str, Any]) -> str:
    """The generation summary as Markdown tables."""
    def table(title: str, counts: dict[str, int]) -> str:
        rows = "".join(f"| {k} | {v} |\n" for k, v in counts.items()) or "| none | 0 |\n"
        return f"| {title} | pairs |\n|---|---:|\n{rows}\n"

    head = (f"**{summary['project']}**: {summary['facts']} facts → **{summary['sft_pairs']} Q&A pairs**, "
            f"**{summary['dpo_pairs']} preference pairs** in {summary['seconds']} s · needs review "
            f"{summary['needs_review']} · flagged {summary['flagged']} · secrets redacted {summary['secrets_redacted']}\n\n"
            f"{store_line(summary['store'])}\n\n")
    return head + table("split (Q&A)", summary["by_split"]["sft"]) + table("family", summary["by_family"]) + \
        table("negative kind", summary["by_negative_kind"])


def _sample(settings: AppSettings, project: str) -> pd.DataFrame:
    paths = settings.workspace.project(project)
    if not paths.curation_db.is_file():
        return pd.DataFrame(columns=SAMPLE_COLUMNS)
    per_family: dict[str, int] = {}
    rows = []
    for row in CurationStore(paths.curation_db).pairs(kind="sft"):
        per_family[row["family"]] = per_family.get(row["family"], 0) + 1
        if per_family[row["family"]] <= 15:  # a taste of every family, not 200 rows of the first
            rows.append(row)
    return pd.DataFrame([{c: r[c] for c in SAMPLE_COLUMNS} for r in rows], columns=SAMPLE_COLUMNS)


def build_generate_tab(settings: AppSettings, demo: gr.Blocks) -> gr.Dropdown:
    """Project, negatives, splits and an optional teacher; a cancellable run with progress; counts and export."""
    with gr.Row():
        project = gr.Dropdown(label="Project", choices=settings.workspace.projects(), elem_id="generate-project")
        negatives = gr.CheckboxGroup(label="Rejected answers for DPO", choices=["hard", "onpolicy"], value=["hard"],
                                     info="hard: wrong answers the code suggests; onpolicy: the base model's own "
                                          "wrong answers (slow on CPU)")
        holdout = gr.Dropdown(label="Hold out for test by", choices=["file", "directory", "row"], value="file")
        seed = gr.Number(label="Seed", value=GenerateConfig().seed, precision=0)
    with gr.Accordion("Teacher model (optional)", open=False):
        gr.Markdown("Any OpenAI-compatible endpoint (a local vLLM or llama.cpp server, or a hosted provider). "
                    "Its paraphrases and explanations are checked against the index; the key is used for this run "
                    "only and never stored.")
        with gr.Row():
            teacher_url = gr.Textbox(label="Base URL", placeholder="http://127.0.0.1:8000/v1")
            teacher_model = gr.Textbox(label="Model")
            teacher_key = gr.Textbox(label="API key", type="password")
    with gr.Row():
        run = gr.Button("Generate training data", variant="primary", elem_id="generate-run")
        cancel = gr.Button("Cancel", variant="stop")
    summary = gr.Markdown(elem_id="generate-summary")
    sample = gr.Dataframe(headers=SAMPLE_COLUMNS, interactive=False, max_height=360, wrap=True,
                          elem_id="generate-sample")
    with gr.Row():
        fmt = gr.Dropdown(label="Export format", choices=["hf", "jsonl", "parquet", "alpaca"], value="hf")
        unreviewed = gr.Checkbox(label="Include unreviewed (pending) pairs", value=False, elem_id="export-unreviewed",
                                 info="By default only pairs accepted in the Curate tab are exported.")
        export = gr.Button("Export dataset", elem_id="generate-export")
    exported = gr.Markdown(elem_id="generate-exported")

    @user_errors
    def do_generate(name: str, kinds: list[str], by: str, seed_value: float, url: str, model: str, key: str,
                    request: gr.Request, profile: gr.OAuthProfile | None,
                    progress: gr.Progress = gr.Progress()) -> tuple[str, pd.DataFrame]:
        if not name:
            raise gr.Error("choose an ingested project first")
        writer(settings, profile, name, "generate pairs")
        config = GenerateConfig(negatives=tuple(kinds), holdout_by=by, seed=int(seed_value),
                                teacher_url=(url or "").strip(), teacher_model=(model or "").strip(),
                                teacher_allow_private=not settings.public)
        flag = _CANCEL_FLAGS.start(request)
        result = generate(name, settings.workspace, config,
                          Progress(lambda fraction, message: progress(fraction, desc=message), flag), key or None)
        return counts_markdown(result), _sample(settings, name)

    @user_errors
    def do_export(name: str, format_name: str, include_unreviewed: bool, profile: gr.OAuthProfile | None) -> str:
        if not name:
            raise gr.Error("choose a project first")
        writer(settings, profile, name, "export a dataset")
        statuses = DEFAULT_STATUSES + (UNREVIEWED if include_unreviewed else ())
        result = export_dataset(settings.workspace.project(name), fmt=format_name, statuses=statuses)
        counts = ", ".join(f"{k}: " + "/".join(f"{s} {n}" for s, n in v.items()) for k, v in result["counts"].items())
        return f"Exported to `{result['out']}` ({result['format']}) — {counts}; hash `{result['dataset_hash'][:16]}`"

    def refresh() -> Any:
        projects = settings.workspace.projects()
        return gr.update(choices=projects, value=projects[0] if projects else None)

    def show_existing(name: str | None) -> pd.DataFrame:
        return _sample(settings, name) if name else pd.DataFrame(columns=SAMPLE_COLUMNS)

    run.click(do_generate, [project, negatives, holdout, seed, teacher_url, teacher_model, teacher_key],
              [summary, sample])
    cancel.click(_CANCEL_FLAGS.cancel, None, summary, queue=False)
    export.click(do_export, [project, fmt, unreviewed], exported)
    project.change(show_existing, project, sample)
    demo.load(refresh, None, project)
    return project
