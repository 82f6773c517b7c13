"""Curate tab: filter, review, edit, accept or reject pairs beside their evidence; every edit saved at once."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from forklift_core.curate import review
from forklift_core.ui.common import AppSettings
from forklift_core.ui.tabs.curate_actions import ANY, BULK_ACTIONS, SHORTCUTS_JS, TABLE_COLUMNS, CurateActions

__all__ = ["SHORTCUTS_JS", "build_curate_tab"]


@dataclass
class _Filters:
    project: gr.Dropdown
    kind: gr.Dropdown
    family: gr.Dropdown
    status: gr.Dropdown
    split: gr.Dropdown
    negative: gr.Dropdown
    path: gr.Textbox
    text: gr.Textbox

    def widgets(self) -> list[gr.components.Component]:
        """In the order every handler receives them."""
        return [self.project, self.kind, self.family, self.status, self.split, self.negative, self.path, self.text]


@dataclass
class _Editor:
    selected: gr.State
    version: gr.State
    detail: gr.Markdown
    question: gr.Textbox
    answer: gr.Textbox
    rejected: gr.Textbox
    comment: gr.Textbox
    evidence: gr.Markdown
    snippet: gr.Code
    message: gr.Markdown
    buttons: dict[str, gr.Button]

    def outputs(self) -> list[gr.components.Component]:
        """What CurateActions.show_pair fills, in order."""
        return [self.selected, self.version, self.detail, self.question, self.answer, self.rejected, self.comment,
                self.evidence, self.snippet, self.message]


def _filters_section(settings: AppSettings) -> _Filters:
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
    return _Filters(project, kind, family, status, split, negative, path, text)


def _editor_section() -> _Editor:
    selected, version = gr.State(""), gr.State(0)
    buttons = {}
    with gr.Row():
        with gr.Column(scale=3):
            detail = gr.Markdown(elem_id="curate-detail")
            question = gr.Textbox(label="Question / prompt", lines=2, elem_id="curate-question")
            answer = gr.Textbox(label="Answer (chosen)", lines=4, elem_id="curate-answer")
            rejected = gr.Textbox(label="Rejected (DPO)", lines=3, elem_id="curate-rejected")
            comment = gr.Textbox(label="Comment", lines=1, elem_id="curate-comment")
            for row in ((("accept", "Accept (a)", "primary"), ("reject", "Reject (r)", "stop"),
                         ("flag", "Flag (f)", "secondary"), ("save", "Save edit", "secondary")),
                        (("prev", "◀ Previous (p)", "secondary"), ("next", "Next (n) ▶", "secondary"),
                         ("swap", "Swap chosen/rejected", "secondary"), ("undo", "Undo my last edit (u)", "secondary"))):
                with gr.Row():
                    for key, label, variant in row:
                        buttons[key] = gr.Button(label, variant=variant, elem_id=f"curate-{key}")
            message = gr.Markdown(elem_id="curate-message")
        with gr.Column(scale=2):
            evidence = gr.Markdown(elem_id="curate-evidence")
            snippet = gr.Code(label="Source", interactive=False, elem_id="curate-snippet")
    return _Editor(selected, version, detail, question, answer, rejected, comment, evidence, snippet, message, buttons)


def build_curate_tab(settings: AppSettings, demo: gr.Blocks) -> gr.Dropdown:
    """Filters and counts, a paged table, the detail editor beside its evidence, bulk actions and undo."""
    actions = CurateActions(settings)
    filters = _filters_section(settings)
    counts = gr.Markdown(elem_id="curate-counts")
    with gr.Row():
        prev_page = gr.Button("◀ Page", size="sm")
        page_label = gr.Markdown("page 1")
        next_page = gr.Button("Page ▶", size="sm")
    page_index = gr.State(0)
    table = gr.Dataframe(headers=TABLE_COLUMNS, interactive=False, max_height=320, wrap=True, elem_id="curate-table")
    editor = _editor_section()
    with gr.Accordion("Bulk actions on the current filter", open=False):
        with gr.Row():
            bulk_action = gr.Dropdown(label="Action", choices=list(BULK_ACTIONS), value="accept all",
                                      elem_id="curate-bulk-action")
            bulk_preview = gr.Button("Preview", elem_id="curate-bulk-preview")
            bulk_confirm = gr.Button("Confirm", variant="primary", elem_id="curate-bulk-confirm", visible=False)
        bulk_message = gr.Markdown(elem_id="curate-bulk-message")

    inputs = filters.widgets()
    page_outputs = [table, counts, page_label, page_index]
    detail_outputs = editor.outputs()
    editing = [filters.project, editor.selected, editor.version, editor.question, editor.answer, editor.rejected,
               editor.comment]
    reload_page = dict(fn=actions.load_page, inputs=[*inputs, page_index], outputs=page_outputs)
    buttons = editor.buttons

    filters.project.change(actions.choices_for, filters.project, [filters.family, filters.negative]).then(
        actions.first_page, inputs, page_outputs)
    for control in (filters.kind, filters.family, filters.status, filters.split, filters.negative):
        control.change(actions.first_page, inputs, page_outputs)
    for box in (filters.path, filters.text):
        box.submit(actions.first_page, inputs, page_outputs)
    next_page.click(actions.turn_page(1), [*inputs, page_index], page_outputs)
    prev_page.click(actions.turn_page(-1), [*inputs, page_index], page_outputs)
    table.select(actions.select_row, [filters.project, table], detail_outputs)
    for key, status in (("accept", "accepted"), ("reject", "rejected"), ("flag", "flagged")):
        buttons[key].click(actions.set_status(status), editing, detail_outputs).then(**reload_page)
    buttons["save"].click(actions.save_edit, editing, detail_outputs).then(**reload_page)
    buttons["swap"].click(actions.swap, [filters.project, editor.selected, editor.version], detail_outputs).then(
        **reload_page)
    buttons["undo"].click(actions.undo, filters.project, detail_outputs).then(**reload_page)
    buttons["next"].click(actions.step(1), [*inputs, editor.selected], detail_outputs)
    buttons["prev"].click(actions.step(-1), [*inputs, editor.selected], detail_outputs)
    bulk_preview.click(actions.preview_bulk, [*inputs, bulk_action], [bulk_message, bulk_confirm])
    bulk_confirm.click(actions.confirm_bulk, [*inputs, bulk_action], [bulk_message, bulk_confirm]).then(**reload_page)
    # Chained from load rather than left to project.change: a hidden tab's dropdown may not emit change events.
    demo.load(actions.refresh_projects, None, filters.project).then(
        actions.choices_for, filters.project, [filters.family, filters.negative]).then(
        actions.first_page, inputs, page_outputs)
    return filters.project
