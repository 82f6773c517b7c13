"""Compare tab: base and tuned answers streamed side by side with scores, the evaluation report, blind A/B judging."""

from __future__ import annotations

import html
import threading
from typing import Any, Iterator

import gradio as gr
import pandas as pd

from forklift_core.config import EvalConfig
from forklift_core.errors import BadInputError
from forklift_core.evaluate import judge
from forklift_core.evaluate.answering import BASE, TUNED, stream_answer
from forklift_core.evaluate.items import load_test_rows
from forklift_core.evaluate.pipeline import CONTEXT, Evaluation
from forklift_core.evaluate.report import METRICS, read_report
from forklift_core.progress import Progress
from forklift_core.train.launch import LocalLauncher
from forklift_core.ui.common import AppSettings, CancelFlags, user_errors, writer

_CANCEL_FLAGS = CancelFlags()
REPORT_COLUMNS = ["family", "test kind", "n"] + [f"{m} (base → tuned)" for m in METRICS]


class LoadedRuns:
    """The Evaluation of the run last used (its models stay loaded; one at a time keeps memory in bounds)."""

    def __init__(self, settings: AppSettings) -> None:
        self.settings = settings
        self._key: tuple[str, str] | None = None
        self._evaluation: Evaluation | None = None
        self._lock = threading.Lock()

    def get(self, project: str | None, run_id: str | None) -> Evaluation:
        if not project or not run_id:
            raise gr.Error("choose a project and a completed run first")
        with self._lock:
            if self._key != (project, run_id):
                self._evaluation = Evaluation(self.settings.workspace, project, run_id, EvalConfig())
                self._key = (project, run_id)
            return self._evaluation  # type: ignore[return-value]


def scores_markdown(scored: dict[str, Any] | None) -> str:
    """Similarity, fact accuracy and hallucination flags under one answer, unknown names highlighted."""
    if not scored:
        return ""
    parts = []
    if "similarity" in scored:
        parts.append(f"similarity to the reference **{scored['similarity']:.2f}** · chrF {scored['chrf']:.2f}")
        parts.append("✅ states the fact" if scored["correct"] else "❌ does not state the fact")
    names = scored.get("unknown_names") or []
    if names:
        marked = ", ".join(f"<mark>{html.escape(n)}</mark>" for n in names)
        parts.append(f"⚠️ not in the index: {marked}")
    else:
        parts.append("no unknown paths or names")
    return " · ".join(parts)


def completed_runs(settings: AppSettings, project: str | None) -> list[str]:
    """The project's runs that have an adapter, newest first."""
    if not project:
        return []
    return [r.run_id for r in LocalLauncher(settings.workspace, project).runs()
            if r.status == "completed" and (r.run_dir / "adapter" / "adapter_config.json").is_file()]


def report_views(settings: AppSettings, project: str | None, run_id: str | None) -> tuple[str, Any, Any, Any]:
    """The saved report of a run as (headline, table, metric bars, similarity histogram)."""
    empty = (pd.DataFrame(columns=REPORT_COLUMNS), pd.DataFrame(columns=["metric", "value", "system"]),
             pd.DataFrame(columns=["similarity", "count", "system"]))
    report = read_report(settings.workspace.project(project).runs_dir / run_id / "eval") \
        if project and run_id else None
    if not run_id:
        return ("_No completed run yet: train one in the **Train** tab, then come back._", *empty)
    if report is None:
        return ("_Not evaluated yet: press **Evaluate this run**._", *empty)
    table = pd.DataFrame([{"family": r["family"], "test kind": r["test_kind"], "n": r["n"],
                           **{f"{m} (base → tuned)": f"{r[f'{BASE}/{m}']:.2f} → {r[f'{TUNED}/{m}']:.2f} "
                                                     f"({r[f'delta/{m}']:+.2f})" for m in METRICS}}
                          for r in report["table"]])
    # One bar per metric and system side by side (a shared x would stack them).
    bars = pd.DataFrame([{"metric": f"{m} · {s}", "value": report["overall"][s][m], "system": s}
                         for m in METRICS for s in report["systems"]])
    bins = [{"similarity": f"{b / 10:.1f}", "count": 0, "system": s} for s in (BASE, TUNED) for b in range(10)]
    for item in report["items"]:
        for n, system in enumerate((BASE, TUNED)):
            bins[n * 10 + min(int(item["answers"][system]["similarity"] * 10), 9)]["count"] += 1
    retention = report["retention"]["mean_similarity"]
    headline = (f"**{report['item_count']} test items.** Fact accuracy {report['overall'][BASE]['fact_accuracy']:.0%} → "
                f"{report['overall'][TUNED]['fact_accuracy']:.0%}; hallucination rate "
                f"{report['overall'][BASE]['hallucination_rate']:.0%} → "
                f"{report['overall'][TUNED]['hallucination_rate']:.0%}"
                + (f"; retention similarity {retention:.2f}" if retention is not None else "") + ".")
    worst = report["worst_regressions"][:5]
    if worst:
        headline += "\n\n**Worst regressions**\n\n" + "\n".join(
            f"- {html.escape(r['question'])} — base: _{html.escape(r['answers'][BASE]['text'][:160])}_ · tuned: "
            f"_{html.escape(r['answers'][TUNED]['text'][:160])}_" for r in worst)
    return headline, table, bars, pd.DataFrame(bins)


def build_compare_tab(settings: AppSettings, demo: gr.Blocks) -> gr.Dropdown:
    """Run and question pickers, two streamed answers with scores, the report, and blind A/B judging."""
    loaded = LoadedRuns(settings)
    with gr.Row():
        project = gr.Dropdown(label="Project", choices=settings.workspace.projects(), elem_id="compare-project")
        run = gr.Dropdown(label="Run (completed, with an adapter)", choices=[], elem_id="compare-run")
    with gr.Row():
        question = gr.Textbox(label="Question", placeholder="Where is `build_app` defined?", scale=3,
                              elem_id="compare-question")
        picked = gr.Dropdown(label="…or a test question from the run's dataset", choices=[], scale=2,
                             elem_id="compare-pick")
    with gr.Row():
        ask = gr.Button("Ask the models", variant="primary", elem_id="compare-ask", scale=3)
        guard = gr.Checkbox(label="Guard paths", value=True, elem_id="compare-guard", scale=1,
                            info="The tuned answers may only name files the index holds.")
    with gr.Row():
        with gr.Column():
            base_answer = gr.Textbox(label="Base model", lines=5, interactive=False, elem_id="compare-base")
            base_scores = gr.Markdown(elem_id="compare-base-scores")
        with gr.Column():
            tuned_answer = gr.Textbox(label="Base + adapter (tuned)", lines=5, interactive=False,
                                      elem_id="compare-tuned")
            tuned_scores = gr.Markdown(elem_id="compare-tuned-scores")
        with gr.Column():
            grounded_answer = gr.Textbox(label="Tuned + index evidence (grounded)", lines=5, interactive=False,
                                         elem_id="compare-grounded")
            grounded_scores = gr.Markdown(elem_id="compare-grounded-scores")
    mutual = gr.Markdown(elem_id="compare-mutual")
    with gr.Accordion("Evaluation report", open=True):
        with gr.Row():
            evaluate = gr.Button("Evaluate this run", elem_id="compare-evaluate")
            cancel = gr.Button("Cancel", variant="stop")
        headline = gr.Markdown(elem_id="compare-report")
        with gr.Row():
            bars = gr.BarPlot(x="metric", y="value", color="system", title="Base vs tuned (all test items)",
                              y_lim=[0, 1], sort=None, x_label_angle=-40)
            histogram = gr.BarPlot(x="similarity", y="count", color="system",
                                   title="Per-item similarity to the reference")
        table = gr.Dataframe(label="Per family and test kind", interactive=False, wrap=True)
    with gr.Accordion("Blind A/B", open=True):
        gr.Markdown("Two answers to the question above in random order. Pick the better one, or mark both wrong; "
                    "a pick becomes an accepted DPO pair in the curation store.")
        new_pair = gr.Button("Show two answers", elem_id="ab-new")
        with gr.Row():
            answer_a = gr.Textbox(label="Answer A", lines=4, interactive=False, elem_id="ab-a")
            answer_b = gr.Textbox(label="Answer B", lines=4, interactive=False, elem_id="ab-b")
        with gr.Row():
            pick_a = gr.Button("A is better", elem_id="ab-pick-a")
            pick_b = gr.Button("B is better", elem_id="ab-pick-b")
            both_wrong = gr.Button("Both wrong", elem_id="ab-both-wrong")
            to_curation = gr.Checkbox(label="Send the judged pair to curation", value=True)
        verdict = gr.Markdown(elem_id="ab-verdict")
        blind_state = gr.State(None)

    def pick_runs(project_name: str | None) -> tuple[Any, Any]:
        runs = completed_runs(settings, project_name)
        return gr.update(choices=runs, value=runs[0] if runs else None), gr.update(choices=[], value=None)

    def run_questions(project_name: str | None, run_id: str | None) -> Any:
        if not project_name or not run_id:
            return gr.update(choices=[], value=None)
        try:
            rows = load_test_rows(settings.workspace.project(project_name).runs_dir / run_id / "dataset")
        except (BadInputError, FileNotFoundError, OSError):
            return gr.update(choices=[], value=None)
        return gr.update(choices=[r["messages"][-2]["content"] for r in rows[:300]], value=None)

    @user_errors
    def do_ask(project_name: str | None, run_id: str | None, text: str,
               guarded: bool) -> Iterator[tuple[str, ...]]:
        evaluation = loaded.get(project_name, run_id)
        if not (text or "").strip():
            raise gr.Error("type a question or pick one from the dataset")
        paths = evaluation.paths_index if guarded else None
        grounded_prompt = evaluation.prompts_for([text], TUNED + CONTEXT)[0]
        runs = ((BASE, BASE, text, None), (TUNED, TUNED, text, paths), (TUNED + CONTEXT, TUNED, grounded_prompt, paths))
        answers = {system: "" for system, *_ in runs}
        for system, model, prompt, guard_index in runs:  # one after another: they share one model and this CPU
            consults_index = system == TUNED + CONTEXT or (system == TUNED and guarded)
            checked = evaluation.index_checked([text], TUNED + CONTEXT) if consults_index else {}
            if checked:  # every name asked is absent: the index answers
                answers[system] = checked[0]
                continue
            for partial in stream_answer(evaluation.models, model, prompt, evaluation.config.max_new_tokens,
                                         guard_index):
                answers[system] = partial
                yield (*answers.values(), "", "", "", "_answering…_")
        scores = evaluation.score_pair(text, answers)
        reference = scores["item"]
        note = (f"Base vs tuned similarity **{scores['mutual_similarity']:.2f}**"
                + (" · tuned answers path-guarded" if guarded else "")
                + (f" · reference: {html.escape(reference['reference'])}" if reference else
                   " · not a dataset question: no reference to score against"))
        marks = [scores_markdown(scores["answers"][s]) for s in answers]
        records, missing = evaluation.grounding([text])[0]  # what the grounded answer read (retrieved once)
        marks[-1] += "\n\n**Index records in its prompt:**\n" + "\n".join(
            f"- {html.escape(r.render())}" for r in records) + "".join(
            f"\n- not in the index: <mark>{html.escape(m)}</mark>" for m in missing)
        yield (*answers.values(), *marks, note)

    @user_errors
    def do_evaluate(project_name: str | None, run_id: str | None, request: gr.Request, profile: gr.OAuthProfile | None,
                    progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
        writer(settings, profile, project_name, "evaluate a run")
        evaluation = loaded.get(project_name, run_id)
        flag = _CANCEL_FLAGS.start(request)
        evaluation.run(Progress(lambda fraction, message: progress(fraction, desc=message), flag))
        views = report_views(settings, project_name, run_id)
        return views[0], views[2], views[3], views[1]

    @user_errors
    def do_blind(project_name: str | None, run_id: str | None, text: str) -> tuple[Any, str, str, str]:
        evaluation = loaded.get(project_name, run_id)
        if not (text or "").strip():
            raise gr.Error("type a question or pick one from the dataset")
        answers = evaluation.ask(text)["answers"]
        pair = judge.blind(text, {system: scored["text"] for system, scored in answers.items()})
        return pair, pair.answer_a, pair.answer_b, "Which answer is better?"

    def verdict_handler(choice: str) -> Any:
        @user_errors
        def handler(project_name: str | None, run_id: str | None, pair: judge.BlindPair | None, send: bool,
                    profile: gr.OAuthProfile | None) -> tuple[Any, str]:
            if pair is None:
                raise gr.Error("press “Show two answers” first")
            person = writer(settings, profile, project_name, "judge answers")
            evaluation = loaded.get(project_name, run_id)
            result = judge.record(evaluation.store, run_id, pair, choice, person.name, send)
            tally = ", ".join(f"{k}: {v}" for k, v in sorted(result["tally"].items()))
            sent = f" Added DPO pair `{result['pair_id']}` (accepted)." if result["pair_id"] else ""
            return None, (f"A was **{pair.system_a}**, B was **{pair.system_b}**; winner: **{result['winner']}**."
                          f"{sent} Tally for this run — {tally}.")
        return handler

    project.change(pick_runs, project, [run, picked])
    run.change(run_questions, [project, run], picked).then(
        lambda p, r: report_views(settings, p, r), [project, run], [headline, table, bars, histogram])
    picked.change(lambda q: q or gr.update(), picked, question)
    ask.click(do_ask, [project, run, question, guard], [base_answer, tuned_answer, grounded_answer, base_scores,
                                                        tuned_scores, grounded_scores, mutual])
    evaluate.click(do_evaluate, [project, run], [headline, bars, histogram, table])
    cancel.click(_CANCEL_FLAGS.cancel, None, headline, queue=False)
    new_pair.click(do_blind, [project, run, question], [blind_state, answer_a, answer_b, verdict])
    for button, choice in ((pick_a, "a"), (pick_b, "b"), (both_wrong, "both_wrong")):
        button.click(verdict_handler(choice), [project, run, blind_state, to_curation], [blind_state, verdict])

    def on_load() -> Any:
        projects = settings.workspace.projects()
        return gr.update(choices=projects, value=projects[0] if projects else None)

    demo.load(on_load, None, project).then(pick_runs, project, [run, picked]).then(
        run_questions, [project, run], picked).then(
        lambda p, r: report_views(settings, p, r), [project, run], [headline, table, bars, histogram])
    return project
