"""Curate tab: filter, review, edit, accept or reject pairs beside their evidence; every edit saved at once."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import gradio as gr
import pandas as pd

from forklift_core.curate import review
from forklift_core.curate.review import ConflictError, PairFilter
from forklift_core.curate.store import CurationStore
from forklift_core.errors import BadInputError, NotFoundError
from forklift_core.ingest.tables import IndexReader
from forklift_core.ui.common import AppSettings, code_language, user_errors

PAGE_SIZE = 25
TABLE_COLUMNS = ["status", "kind", "family", "split", "question", "id"]
ANY = "all"
BULK_ACTIONS = {"accept all": {"status": "accepted"}, "reject all": {"status": "rejected"},
                "set split: train": {"split": "train"}, "set split: validation": {"split": "validation"},
                "set split: test": {"split": "test"}}
# Keys a reviewer can press (outside text boxes): accept, reject, flag, next, previous, undo.
SHORTCUTS_JS = """
<script>
document.addEventListener('keydown', (event) => {
  const target = event.target;
  if (!target || ['TEXTAREA', 'INPUT', 'SELECT'].includes(target.tagName) || target.isContentEditable) return;
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  const ids = {a: 'curate-accept', r: 'curate-reject', f: 'curate-flag', n: 'curate-next', j: 'curate-next',
               p: 'curate-prev', k: 'curate-prev', u: 'curate-undo'};
  const button = document.getElementById(ids[event.key]);
  if (button) { event.preventDefault(); button.click(); }
});
</script>
"""


@dataclass(frozen=True)
class Reviewer:
    """Who is editing, and whether they may."""

    name: str
    can_edit: bool


def reviewer(settings: AppSettings, profile: gr.OAuthProfile | None) -> Reviewer:
    """A signed-in Hugging Face user edits as themselves; on a public Space anonymous visitors only read."""
    if profile is not None:
        return Reviewer(profile.username, True)
    if settings.public:
        return Reviewer("anonymous", False)
    return Reviewer(os.environ.get("FORKLIFT_USER") or os.environ.get("USER") or "local", True)


def _store(settings: AppSettings, project: str | None) -> CurationStore:
    if not project:
        raise BadInputError("choose a project first")
    paths = settings.workspace.project(project)
    if not paths.curation_db.is_file():
        raise NotFoundError(f"project {project!r} has no generated pairs yet: use the Generate tab first")
    return CurationStore(paths.curation_db)


def _filter(kind: str, family: str, status: str, split: str, negative: str, path: str, text: str) -> PairFilter:
    pick = lambda value: "" if value in (None, ANY) else value  # noqa: E731 - a one-line mapping
    return PairFilter(kind=pick(kind), family=pick(family), status=pick(status), split=pick(split),
                      negative_kind=pick(negative), path=(path or "").strip(), text=(text or "").strip())


def counts_markdown(counts: dict[str, Any]) -> str:
    """Progress and counts per status and family for the current filter."""
    statuses = " · ".join(f"{k} {v}" for k, v in counts["by_status"].items()) or "no pairs"
    families = " · ".join(f"{k} {v}" for k, v in counts["by_family"].items())
    return (f"**Reviewed {counts['reviewed']} / {counts['total']}** — {statuses}\n\n<small>{families}</small>")


def evidence_markdown(settings: AppSettings, project: str, fact: dict[str, Any]) -> tuple[str, str]:
    """The fact's source location, its references, and the snippet it was read from."""
    header = f"**Evidence:** `{fact['path']}`" + (f" lines {fact['line']}–{fact['end_line']}" if fact["line"] else "")
    if fact["symbol_id"]:
        try:
            reader = IndexReader(settings.workspace.project(project))
            symbol = reader.symbol(fact["symbol_id"])
            if symbol is not None:
                refs = reader.references(symbol["name"])["callers"]
                used = ", ".join(f"`{e['src_name'] or 'file'}` ({e['path']}:{e['line']})" for e in refs[:8])
                header += f" · {symbol['kind']} `{symbol['name']}`" + (f"\n\n**Used by:** {used}" if used else "")
        except NotFoundError:
            pass
    header += ("\n\n<details><summary>fact data</summary>\n\n```json\n"
               + json.dumps(fact["data"], indent=1)[:2000] + "\n```\n</details>")
    return header, fact["evidence"]


def build_curate_tab(settings: AppSettings, demo: gr.Blocks) -> None:
    """Filters and counts, a paged table, the detail editor beside its evidence, bulk actions and undo."""
    with gr.Row():
        project = gr.Dropdown(label="Project", choices=settings.workspace.projects(), elem_id="curate-project", scale=2)
        kind = gr.Dropdown(label="Kind", choices=[ANY, "sft", "dpo"], value=ANY, scale=1)
        family = gr.Dropdown(label="Family", choices=[ANY], value=ANY, elem_id="curate-family", scale=2)
        status = gr.Dropdown(label="Status", choices=[ANY, *review.STATUSES], value=ANY, elem_id="curate-status", scale=1)
        split = gr.Dropdown(label="Split", choices=[ANY, "train", "validation", "test"], value=ANY, scale=1)
        negative = gr.Dropdown(label="Negative kind", choices=[ANY], value=ANY, scale=1)
    with gr.Row():
        path = gr.Textbox(label="File or folder", placeholder="src/ or src/app.py", scale=1)
        text = gr.Textbox(label="Search text", placeholder="a word in the question or answers", scale=2,
                          elem_id="curate-search")
        if settings.public:
            gr.LoginButton(scale=1)
    counts = gr.Markdown(elem_id="curate-counts")
    with gr.Row():
        prev_page = gr.Button("◀ Page", size="sm")
        page_label = gr.Markdown("page 1")
        next_page = gr.Button("Page ▶", size="sm")
    page_index = gr.State(0)
    table = gr.Dataframe(headers=TABLE_COLUMNS, interactive=False, max_height=320, wrap=True, elem_id="curate-table")
    selected = gr.State("")
    version = gr.State(0)
    with gr.Row():
        with gr.Column(scale=3):
            detail = gr.Markdown(elem_id="curate-detail")
            question = gr.Textbox(label="Question / prompt", lines=2, elem_id="curate-question")
            answer = gr.Textbox(label="Answer (chosen)", lines=4, elem_id="curate-answer")
            rejected = gr.Textbox(label="Rejected (DPO)", lines=3, elem_id="curate-rejected")
            comment = gr.Textbox(label="Comment", lines=1, elem_id="curate-comment")
            with gr.Row():
                accept = gr.Button("Accept (a)", variant="primary", elem_id="curate-accept")
                reject = gr.Button("Reject (r)", variant="stop", elem_id="curate-reject")
                flag = gr.Button("Flag (f)", elem_id="curate-flag")
                save = gr.Button("Save edit", elem_id="curate-save")
            with gr.Row():
                prev_pair = gr.Button("◀ Previous (p)", elem_id="curate-prev")
                next_pair = gr.Button("Next (n) ▶", elem_id="curate-next")
                swap = gr.Button("Swap chosen/rejected", elem_id="curate-swap")
                undo = gr.Button("Undo my last edit (u)", elem_id="curate-undo")
            message = gr.Markdown(elem_id="curate-message")
        with gr.Column(scale=2):
            evidence = gr.Markdown(elem_id="curate-evidence")
            snippet = gr.Code(label="Source", interactive=False, elem_id="curate-snippet")
    with gr.Accordion("Bulk actions on the current filter", open=False):
        with gr.Row():
            bulk_action = gr.Dropdown(label="Action", choices=list(BULK_ACTIONS), value="accept all",
                                      elem_id="curate-bulk-action")
            bulk_preview = gr.Button("Preview", elem_id="curate-bulk-preview")
            bulk_confirm = gr.Button("Confirm", variant="primary", elem_id="curate-bulk-confirm", visible=False)
        bulk_message = gr.Markdown(elem_id="curate-bulk-message")

    filters = [project, kind, family, status, split, negative, path, text]
    detail_outputs = [selected, version, detail, question, answer, rejected, comment, evidence, snippet, message]

    def show_pair(project_name: str, pair: dict[str, Any] | None, note: str = "") -> list[Any]:
        if pair is None:
            return ["", 0, "_Select a pair in the table._", "", "", gr.update(value="", visible=True), "", "", "", note]
        store = _store(settings, project_name)
        fact = store.fact(pair["fact_id"])
        header = (f"**{pair['kind'].upper()}** · {pair['family']} · split **{pair['split']}**"
                  f"{' (' + pair['test_kind'] + ')' if pair['test_kind'] else ''} · status **{pair['status']}** · "
                  f"version {pair['version']}" + (f" · negative: {pair['negative_kind']}" if pair["negative_kind"] else "")
                  + (f"\n\n⚠️ {pair['flags']}" if pair["flags"] else ""))
        proof, code = evidence_markdown(settings, project_name, fact)
        return [pair["id"], pair["version"], header, pair["question"], pair["answer"],
                gr.update(value=pair["rejected"], visible=pair["kind"] == "dpo"), pair["comment"], proof,
                gr.update(value=code, language=code_language(fact["path"])), note]

    def table_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
        return pd.DataFrame([{c: r[c] for c in TABLE_COLUMNS} for r in rows], columns=TABLE_COLUMNS)

    @user_errors
    def load_page(project_name, kind_v, family_v, status_v, split_v, negative_v, path_v, text_v, index):
        if not project_name:
            return [table_frame([]), "", "page 1", 0]
        store = _store(settings, project_name)
        where = _filter(kind_v, family_v, status_v, split_v, negative_v, path_v, text_v)
        rows, total = review.page(store, where, index * PAGE_SIZE, PAGE_SIZE)
        pages = max(1, -(-total // PAGE_SIZE))
        index = min(index, pages - 1)
        return [table_frame(rows), counts_markdown(review.summary_counts(store, where)),
                f"page {index + 1} of {pages} · {total} pairs", index]

    page_outputs = [table, counts, page_label, page_index]

    def reset_and_load(*values):
        return load_page(*values, 0)

    @user_errors
    def select_row(project_name: str, frame: pd.DataFrame, evt: gr.SelectData):
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        pair = review.get_pair(_store(settings, project_name), str(frame.iloc[row]["id"]))
        return show_pair(project_name, pair)

    def _who(profile: gr.OAuthProfile | None) -> str:
        who = reviewer(settings, profile)
        if not who.can_edit:
            raise gr.Error("Sign in with Hugging Face to edit: anonymous visitors have a read-only view.")
        return who.name

    def _save(project_name: str, pair_id: str, base: int, changes: dict[str, Any], user: str, done: str):
        if not pair_id:
            raise gr.Error("select a pair first")
        store = _store(settings, project_name)
        try:
            pair = review.edit_pair(store, pair_id, changes, int(base), user)
        except ConflictError as conflict:
            other = conflict.last_edit
            seen = f"\n\nTheir edit: `{other['after'][:300]}`" if other else ""
            return [pair_id, int(base), gr.update(), gr.update(), gr.update(), gr.update(), gr.update(), gr.update(),
                gr.update(), f"⚠️ **Conflict:** {conflict}{seen}"]
        return show_pair(project_name, review.get_pair(store, pair["id"]), done)

    def with_status(new_status: str):
        @user_errors
        def handler(project_name, pair_id, base, question_v, answer_v, rejected_v, comment_v,
                    profile: gr.OAuthProfile | None):
            user = _who(profile)
            changes = {"status": new_status, "question": question_v, "answer": answer_v, "comment": comment_v or ""}
            if review.get_pair(_store(settings, project_name), pair_id)["kind"] == "dpo":
                changes["rejected"] = rejected_v
            return _save(project_name, pair_id, base, changes, user, f"Saved: **{new_status}** by {user}.")
        return handler

    @user_errors
    def save_edit(project_name, pair_id, base, question_v, answer_v, rejected_v, comment_v,
                  profile: gr.OAuthProfile | None):
        user = _who(profile)
        changes = {"question": question_v, "answer": answer_v, "comment": comment_v or ""}
        if review.get_pair(_store(settings, project_name), pair_id)["kind"] == "dpo":
            changes["rejected"] = rejected_v
        return _save(project_name, pair_id, base, changes, user, f"Saved by {user}.")

    @user_errors
    def do_swap(project_name, pair_id, base, profile: gr.OAuthProfile | None):
        user = _who(profile)
        try:
            pair = review.swap_chosen_rejected(_store(settings, project_name), pair_id, int(base), user)
        except ConflictError as conflict:
            raise gr.Error(str(conflict)) from conflict
        return show_pair(project_name, pair, "Swapped chosen and rejected.")

    @user_errors
    def do_undo(project_name, profile: gr.OAuthProfile | None):
        user = _who(profile)
        pair = review.undo_last(_store(settings, project_name), user)
        return show_pair(project_name, review.get_pair(_store(settings, project_name), pair["id"]), "Undone.")

    def step(delta: int):
        @user_errors
        def handler(project_name, kind_v, family_v, status_v, split_v, negative_v, path_v, text_v, pair_id):
            store = _store(settings, project_name)
            where = _filter(kind_v, family_v, status_v, split_v, negative_v, path_v, text_v)
            here = review.position(store, where, pair_id) if pair_id else -1
            rows, total = review.page(store, where, max(0, here + delta) if here >= 0 else 0, 1)
            if not rows:
                return show_pair(project_name, None, "No more pairs under this filter.")
            return show_pair(project_name, rows[0])
        return handler

    @user_errors
    def preview_bulk(project_name, kind_v, family_v, status_v, split_v, negative_v, path_v, text_v, action):
        where = _filter(kind_v, family_v, status_v, split_v, negative_v, path_v, text_v)
        _, total = review.page(_store(settings, project_name), where, 0, 1)
        return (f"**{action}** will change up to **{total} pairs** matching the current filter. Confirm to apply.",
                gr.update(visible=total > 0))

    @user_errors
    def confirm_bulk(project_name, kind_v, family_v, status_v, split_v, negative_v, path_v, text_v, action,
                     profile: gr.OAuthProfile | None):
        user = _who(profile)
        where = _filter(kind_v, family_v, status_v, split_v, negative_v, path_v, text_v)
        changed = review.bulk_edit(_store(settings, project_name), where, BULK_ACTIONS[action], user)
        return f"✅ {action}: {changed} pairs changed by {user}.", gr.update(visible=False)

    def choices_for(project_name: str | None):
        if not project_name or not settings.workspace.project(project_name).curation_db.is_file():
            return gr.update(choices=[ANY], value=ANY), gr.update(choices=[ANY], value=ANY)
        counts = CurationStore(settings.workspace.project(project_name).curation_db).counts()
        return (gr.update(choices=[ANY, *counts["family"]], value=ANY),
                gr.update(choices=[ANY, *counts["negative_kind"]], value=ANY))

    def refresh_projects():
        projects = [p for p in settings.workspace.projects() if settings.workspace.project(p).curation_db.is_file()]
        return gr.update(choices=projects, value=projects[0] if projects else None)

    editor = [project, selected, version, question, answer, rejected, comment]
    project.change(choices_for, project, [family, negative]).then(reset_and_load, [*filters], page_outputs)
    for control in (kind, family, status, split, negative):
        control.change(reset_and_load, filters, page_outputs)
    for box in (path, text):
        box.submit(reset_and_load, filters, page_outputs)
    next_page.click(lambda *v: load_page(*v[:-1], v[-1] + 1), [*filters, page_index], page_outputs)
    prev_page.click(lambda *v: load_page(*v[:-1], max(0, v[-1] - 1)), [*filters, page_index], page_outputs)
    table.select(select_row, [project, table], detail_outputs)
    reload_after = dict(fn=load_page, inputs=[*filters, page_index], outputs=page_outputs)
    accept.click(with_status("accepted"), editor, detail_outputs).then(**reload_after)
    reject.click(with_status("rejected"), editor, detail_outputs).then(**reload_after)
    flag.click(with_status("flagged"), editor, detail_outputs).then(**reload_after)
    save.click(save_edit, editor, detail_outputs).then(**reload_after)
    swap.click(do_swap, [project, selected, version], detail_outputs).then(**reload_after)
    undo.click(do_undo, project, detail_outputs).then(**reload_after)
    next_pair.click(step(1), [*filters, selected], detail_outputs)
    prev_pair.click(step(-1), [*filters, selected], detail_outputs)
    bulk_preview.click(preview_bulk, [*filters, bulk_action], [bulk_message, bulk_confirm])
    bulk_confirm.click(confirm_bulk, [*filters, bulk_action], [bulk_message, bulk_confirm]).then(**reload_after)
    # Chained from load rather than left to project.change: a hidden tab's dropdown may not emit change events.
    demo.load(refresh_projects, None, project).then(choices_for, project, [family, negative]).then(
        reset_and_load, filters, page_outputs)
