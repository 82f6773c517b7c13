"""Train tab: a plan with defaults and its CLI command, start / cancel / resume, live loss curves, the runs."""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from forklift_core.config import TrainPlan
from forklift_core.config import HubConfig
from forklift_core.errors import ForkliftError
from forklift_core.hub.auth import resolve_token
from forklift_core.hub.client import Hub
from forklift_core.models import resolve_lm
from forklift_core.train.estimate import TYPICAL_ROW_TOKENS, estimate, parameter_count
from forklift_core.train.backends import REMOTE_LABELS, Runs
from forklift_core.train.remote import FLAVORS, estimate_cost
from forklift_core.train.launch import RunStatus
from forklift_core.train.recipe import cli_command
from forklift_core.ui.common import AppSettings, user_errors, writer

CURVES = ("loss", "eval_loss", "rewards/accuracies")


def curves_frame(status: RunStatus | None) -> pd.DataFrame:
    """Training and validation loss (and DPO reward accuracy) per step, one series per stage and metric."""
    rows = []
    for record in status.progress if status else []:
        for metric in CURVES:
            if metric in record and record[metric] is not None:
                rows.append({"step": record["step"], "value": record[metric], "series": f"{record['stage']} {metric}"})
    frame = pd.DataFrame(rows, columns=["step", "value", "series"])
    # Explicit numeric types: an empty or mixed frame would otherwise plot values as categories.
    return frame.astype({"step": "int64", "value": "float64", "series": object})


def status_markdown(status: RunStatus | None) -> str:
    """Status, last step, tokens/s and ETA of a run."""
    if status is None:
        return "_No run selected._"
    steps = [r for r in status.progress if "loss" in r]
    last = steps[-1] if steps else {}
    eta = f" · ETA {last['eta_s']:.0f} s" if last.get("eta_s") else ""
    rate = f" · {last['num_tokens'] / max(last['time'], 1e-6):.0f} tokens/s" if last.get("num_tokens") else ""
    where = f" · {last['stage']} step {last['step']}/{last['max_steps']}" if last else ""
    error = f"\n\n⚠️ {status.manifest['error']}" if status.manifest.get("error") else ""
    return f"**{status.run_id}** — {status.status}{where}{rate}{eta}{data_notes(status.manifest)}{error}"


def data_notes(manifest: dict[str, Any]) -> str:
    """Rows trained on, rows dropped as too long (never truncated), and steps capped to the time budget."""
    notes = []
    for stage in ("sft", "dpo"):
        if f"{stage}_train_rows" in manifest:
            dropped = manifest.get(f"{stage}_dropped_too_long", 0)
            total, used = manifest[f"{stage}_train_rows"], manifest.get(f"{stage}_rows_used")
            rows = f"{used:,} of {total:,} rows" if used is not None and used < total else f"{total:,} rows"
            notes.append(f"{stage.upper()}: {rows} of ≤ {manifest.get(f'{stage}_max_length')} tokens"
                         + (f", **{dropped} dropped as too long**" if dropped else ", none dropped"))
    curriculum = manifest.get("curriculum") or {}
    if curriculum:
        notes.append(f"the budget covers **{curriculum['summary']}**")
    capped = manifest.get("capped_to_time_budget") or {}
    if capped and not curriculum:
        notes.append("steps capped to the time budget: " + ", ".join(f"{k} = {v}" for k, v in capped.items()))
    if manifest.get("sft_ended_by_time_budget"):
        notes.append(f"SFT ended on time after {manifest.get('sft_steps_done', 0):,} steps")
    return ("\n\n" + " · ".join(notes)) if notes else ""


def build_train_tab(settings: AppSettings, demo: gr.Blocks) -> gr.Dropdown:
    """Plan fields, the equivalent command, a hint about time, run controls and live curves."""
    # A GPU Space sets FORKLIFT_BASE_MODEL to a larger Hub model (QLoRA follows from quantization 'auto' on CUDA).
    defaults = TrainPlan(base_model=settings.base_model) if settings.base_model else TrainPlan()
    with gr.Row():
        project = gr.Dropdown(label="Project", choices=settings.workspace.projects(), elem_id="train-project")
        base_model = gr.Textbox(label="Base model", value=defaults.base_model, elem_id="train-base-model")
        method = gr.Radio(label="Method", choices=["sft", "dpo", "sft+dpo"], value=defaults.method)
    with gr.Row():
        max_steps = gr.Number(label="Max steps per stage (-1: whole epochs within the time budget)",
                              value=defaults.sft_max_steps, precision=0,
                              elem_id="train-max-steps")
        learning_rate = gr.Number(label="Learning rate", value=defaults.learning_rate)
        batch_size = gr.Number(label="Batch size", value=defaults.batch_size, precision=0)
        lora_r = gr.Number(label="LoRA r", value=defaults.lora_r, precision=0)
        unreviewed = gr.Checkbox(label="Train on unreviewed (pending) pairs too", value=True)
    with gr.Row():
        backend = gr.Radio(label="Where", choices=[("this machine", "local"), *[(label, key) for key, label in
                                                                                REMOTE_LABELS.items()]],
                           value="local", elem_id="train-backend")
        hardware = gr.Dropdown(label="Remote hardware", choices=list(FLAVORS), value="t4-small",
                               elem_id="train-hardware")
        job_timeout = gr.Textbox(label="Remote timeout", value="2h", elem_id="train-timeout")
    command = gr.Markdown(elem_id="train-command")
    remote_cost = gr.Markdown(elem_id="train-remote-cost")
    with gr.Row():
        start = gr.Button("Start training", variant="primary", elem_id="train-start")
        cancel = gr.Button("Cancel", variant="stop", elem_id="train-cancel")
        resume = gr.Button("Resume", elem_id="train-resume")
    with gr.Row():
        run = gr.Dropdown(label="Run", choices=[], elem_id="train-run", scale=2)
        status = gr.Markdown(elem_id="train-status")
    plot = gr.LinePlot(x="step", y="value", color="series", title="Loss (training and validation)",
                       elem_id="train-plot")
    with gr.Accordion("Logs", open=False):
        logs = gr.Textbox(label="Latest log lines (a remote run's are fetched every 15 s)", lines=12, max_lines=12,
                          autoscroll=True, elem_id="train-logs")
    manifest = gr.JSON(label="Run manifest")
    timer = gr.Timer(2.0)

    def plan_from(base: str, method_v: str, steps: float, lr: float, batch: float, r: float, pending: bool) -> TrainPlan:
        return TrainPlan(base_model=base or defaults.base_model, method=method_v, sft_max_steps=int(steps),
                         dpo_max_steps=int(steps), learning_rate=float(lr), batch_size=int(batch), lora_r=int(r),
                         lora_alpha=2 * int(r), pairs="accepted+pending" if pending else "accepted")

    plan_inputs = [base_model, method, max_steps, learning_rate, batch_size, lora_r, unreviewed]

    def describe(project_name: str | None, *values: Any) -> str:
        try:
            plan = plan_from(*values)
        except Exception as exc:  # an invalid field is shown, not raised, while typing
            return f"⚠️ {exc}"
        location = resolve_lm(plan.base_model, settings.workspace.models_dir).location \
            if plan.base_model == defaults.base_model else plan.base_model
        flag = " --include-unreviewed" if plan.pairs == "accepted+pending" else ""
        command = f"`{cli_command(project_name or 'PROJECT', plan)}{flag}`"
        if plan.sft_max_steps < 0:
            budget = f"{plan.time_budget_minutes:.0f} min" if plan.time_budget_minutes else "no"
            covered = coverage(project_name, plan)
            if covered:
                return f"{command} · the {budget} budget on this hardware covers **{covered}**"
            return f"{command} · whole epochs, capped at launch to a {budget} budget on this hardware"
        steps = plan.sft_max_steps * (2 if plan.method == "sft+dpo" else 1)
        guess = estimate(parameter_count(location), steps, plan.batch_size, plan.max_length or TYPICAL_ROW_TOKENS)
        return f"{command} · {guess.hint()}"

    def coverage(project_name: str | None, plan: TrainPlan) -> str:
        """The curriculum a run would train on, said before launch (cached until the pairs or the plan change)."""
        if not project_name or not settings.workspace.project(project_name).exists():
            return ""
        store = settings.workspace.project(project_name).curation_db
        key = (project_name, plan.to_yaml(), store.stat().st_mtime_ns if store.is_file() else 0)
        if key not in previews:
            try:
                found = launcher(project_name).local.preview(plan)
            except Exception:  # noqa: BLE001 - a hint only: the launch itself reports real problems
                found = None
            previews.clear()
            previews[key] = found.summary() if found else ""
        return previews[key]

    previews: dict[tuple[str, str, int], str] = {}

    polled: dict[str, Any] = {}  # remote runs' last answers, shared by every visitor's timer

    def launcher(project_name: str | None, oauth_token: gr.OAuthToken | None = None) -> Runs:
        if not project_name:
            raise gr.Error("choose a project first")
        return Runs(settings.workspace, project_name, lambda: Hub(
            resolve_token(oauth_token.token if oauth_token else None, settings.on_space), HubConfig()), polled)

    def view(project_name: str | None, run_id: str | None,
             oauth_token: gr.OAuthToken | None) -> tuple[str, pd.DataFrame, Any, str]:
        if not project_name or not run_id:
            return status_markdown(None), curves_frame(None), {}, ""
        runs = launcher(project_name, oauth_token)
        try:
            current = runs.poll(run_id)
            lines = runs.logs(run_id, 40)
        except ForkliftError as exc:  # a remote run that cannot be asked right now: say so, keep polling
            return f"⚠️ {exc}", curves_frame(None), {}, ""
        return status_markdown(current), curves_frame(current), current.manifest, lines

    def cost(where: str, flavor: str, minutes_text: str) -> str:
        if where == "local":
            return ""
        notes = {"hf-jobs": "a job runs job.py from a private bundle repo",
                 "space": "a private Docker Space runs job.py and pauses itself at the end (ForkLift pauses it too "
                          "if it cannot)",
                 "autotrain": "AutoTrain Advanced (in its own environment: `make autotrain-env`) trains the SFT stage "
                              "on a Space it creates"}
        return (f"**{REMOTE_LABELS[where]}** (add `--backend {where} --hardware {flavor} --timeout {minutes_text}` to "
                f"the command): {estimate_cost(flavor, TrainPlan().time_budget_minutes + 5)} (setup included; the "
                f"timeout {minutes_text} caps it). {notes[where]}; the training data goes to a private repo and the "
                "adapter comes back from a private model repo into this run.")

    def run_choices(project_name: str | None, select: str | None = None) -> Any:
        runs = [r.run_id for r in launcher(project_name).local.runs()] if project_name else []
        return gr.update(choices=runs, value=select or (runs[0] if runs else None))

    @user_errors
    def do_start(project_name: str | None, base: str, method_v: str, steps: float, lr: float, batch: float, r: float,
                 pending: bool, where: str, flavor: str, limit: str, profile: gr.OAuthProfile | None,
                 oauth_token: gr.OAuthToken | None) -> Any:
        writer(settings, profile, project_name, "train")
        runs = launcher(project_name, oauth_token)
        plan = plan_from(base, method_v, steps, lr, batch, r, pending)
        run_id = runs.local.start(plan) if where == "local" else runs.remote(where, flavor, limit).start(plan)
        return run_choices(project_name, run_id)

    @user_errors
    def do_cancel(project_name: str | None, run_id: str | None, profile: gr.OAuthProfile | None,
                  oauth_token: gr.OAuthToken | None) -> str:
        writer(settings, profile, project_name, "cancel a run")
        if run_id:
            launcher(project_name, oauth_token).cancel(run_id)
        return "Cancelling: a local job saves a checkpoint, then stops (Resume continues from it); a remote job stops."

    @user_errors
    def do_resume(project_name: str | None, run_id: str | None, profile: gr.OAuthProfile | None) -> str:
        writer(settings, profile, project_name, "resume a run")
        if not run_id:
            raise gr.Error("choose a run to resume")
        launcher(project_name).local.launch(run_id)
        return "Resumed from the last checkpoint."

    for control in (project, *plan_inputs):
        # One queue for every field: descriptions finish in the order they were asked for, so the last edit wins.
        control.change(describe, [project, *plan_inputs], command, concurrency_id="train-describe",
                       concurrency_limit=1)
    project.change(run_choices, project, run)
    start.click(do_start, [project, *plan_inputs, backend, hardware, job_timeout], run)
    for control in (backend, hardware, job_timeout):
        control.change(cost, [backend, hardware, job_timeout], remote_cost)
    cancel.click(do_cancel, [project, run], status)
    resume.click(do_resume, [project, run], status)
    run.change(view, [project, run], [status, plot, manifest, logs])
    timer.tick(view, [project, run], [status, plot, manifest, logs])

    def on_load() -> tuple[Any, Any, str]:
        projects = settings.workspace.projects()
        chosen = projects[0] if projects else None
        return gr.update(choices=projects, value=chosen), run_choices(chosen), describe(
            chosen, defaults.base_model, defaults.method, defaults.sft_max_steps, defaults.learning_rate,
            defaults.batch_size, defaults.lora_r, True)

    demo.load(on_load, None, [project, run, command])
    return project
