"""What the Curate tab's buttons do: each handler reads the store, applies one review action, returns widget values."""

from __future__ import annotations

import json
from typing import Any, Callable

import gradio as gr
import pandas as pd

from forklift_core.curate import review
from forklift_core.curate.review import ConflictError, PairFilter
from forklift_core.curate.store import CurationStore
from forklift_core.errors import BadInputError, NotFoundError
from forklift_core.ingest.tables import open_index
from forklift_core.ui.common import AppSettings, code_language, user_errors, writer
from forklift_core.workspace import Workspace

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
            reader = open_index(settings.workspace.project(project))
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



def table_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The table's rows."""
    return pd.DataFrame([{c: r[c] for c in TABLE_COLUMNS} for r in rows], columns=TABLE_COLUMNS)


class CurateActions:
    """Handlers of the Curate tab; filter values arrive as (kind, family, status, split, negative, path, text)."""

    def __init__(self, settings: AppSettings) -> None:
        self.settings = settings

    def store(self, project: str | None) -> CurationStore:
        """The project's curation store (a clear error when there is none yet)."""
        return _store(self.settings, project)

    def who(self, project: str | None, profile: gr.OAuthProfile | None) -> str:
        """The editing user's name; a read-only visitor or another user's project gets a clear refusal."""
        return writer(self.settings, profile, project, "edit pairs").name

    def show_pair(self, project: str, pair: dict[str, Any] | None, note: str = "") -> list[Any]:
        """Values for [selected, version, detail, question, answer, rejected, comment, evidence, snippet, message]."""
        if pair is None:
            return ["", 0, "_Select a pair in the table._", "", "", gr.update(value="", visible=True), "", "", "", note]
        fact = self.store(project).fact(pair["fact_id"])
        header = (f"**{pair['kind'].upper()}** · {pair['family']} · split **{pair['split']}**"
                  f"{' (' + pair['test_kind'] + ')' if pair['test_kind'] else ''} · status **{pair['status']}** · "
                  f"version {pair['version']}" + (f" · negative: {pair['negative_kind']}" if pair["negative_kind"] else "")
                  + (f"\n\n⚠️ {pair['flags']}" if pair["flags"] else ""))
        proof, code = evidence_markdown(self.settings, project, fact)
        return [pair["id"], pair["version"], header, pair["question"], pair["answer"],
                gr.update(value=pair["rejected"], visible=pair["kind"] == "dpo"), pair["comment"], proof,
                gr.update(value=code, language=code_language(fact["path"])), note]

    @user_errors
    def load_page(self, project: str | None, *values: Any) -> list[Any]:
        """[table, counts, page label, page index] for the filter (values end with the page index)."""
        *filters, index = values
        if not project:
            return [table_frame([]), "", "page 1", 0]
        store, where = self.store(project), _filter(*filters)
        rows, total = review.page(store, where, index * PAGE_SIZE, PAGE_SIZE)
        pages = max(1, -(-total // PAGE_SIZE))
        index = min(index, pages - 1)
        return [table_frame(rows), counts_markdown(review.summary_counts(store, where)),
                f"page {index + 1} of {pages} · {total} pairs", index]

    def first_page(self, project: str | None, *filters: Any) -> list[Any]:
        """The first page for a new filter."""
        return self.load_page(project, *filters, 0)

    def turn_page(self, delta: int) -> Callable[..., list[Any]]:
        """A handler for the page buttons (its last input is the current page index)."""
        return lambda project, *values: self.load_page(project, *values[:-1], max(0, values[-1] + delta))

    @user_errors
    def select_row(self, project: str, frame: pd.DataFrame, evt: gr.SelectData) -> list[Any]:
        """Open the clicked row in the editor."""
        # The clicked row's own values name the pair, even if the table was refreshed in between.
        clicked = getattr(evt, "row_value", None)
        if clicked:
            pair_id = str(clicked[TABLE_COLUMNS.index("id")])
        else:
            row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
            pair_id = str(frame.iloc[row]["id"])
        return self.show_pair(project, review.get_pair(self.store(project), pair_id))

    def _save(self, project: str, pair_id: str, base: int, changes: dict[str, Any], user: str, done: str) -> list[Any]:
        if not pair_id:
            raise gr.Error("select a pair first")
        store = self.store(project)
        try:
            pair = review.edit_pair(store, pair_id, changes, int(base), user)
        except ConflictError as conflict:
            other = conflict.last_edit
            seen = f"\n\nTheir edit: `{other['after'][:300]}`" if other else ""
            unchanged = [gr.update()] * 7  # keep the reviewer's text on screen so nothing typed is lost
            return [pair_id, int(base), *unchanged, f"⚠️ **Conflict:** {conflict}{seen}"]
        return self.show_pair(project, review.get_pair(store, pair["id"]), done)

    def _editor_changes(self, project: str, pair_id: str, question: str, answer: str, rejected: str,
                        comment: str) -> dict[str, Any]:
        if not pair_id:
            raise gr.Error("select a pair first")
        changes = {"question": question, "answer": answer, "comment": comment or ""}
        if review.get_pair(self.store(project), pair_id)["kind"] == "dpo":
            changes["rejected"] = rejected
        return changes

    def set_status(self, status: str) -> Callable[..., list[Any]]:
        """A handler that saves the editor's text with a new status (accept, reject, flag)."""
        @user_errors
        def handler(project: str, pair_id: str, base: int, question: str, answer: str, rejected: str, comment: str,
                    profile: gr.OAuthProfile | None) -> list[Any]:
            user = self.who(project, profile)
            changes = {**self._editor_changes(project, pair_id, question, answer, rejected, comment), "status": status}
            return self._save(project, pair_id, base, changes, user, f"Saved: **{status}** by {user}.")
        return handler

    @user_errors
    def save_edit(self, project: str, pair_id: str, base: int, question: str, answer: str, rejected: str,
                  comment: str, profile: gr.OAuthProfile | None) -> list[Any]:
        """Save the editor's text without changing the status."""
        user = self.who(project, profile)
        changes = self._editor_changes(project, pair_id, question, answer, rejected, comment)
        return self._save(project, pair_id, base, changes, user, f"Saved by {user}.")

    @user_errors
    def swap(self, project: str, pair_id: str, base: int, profile: gr.OAuthProfile | None) -> list[Any]:
        """Swap a preference pair's chosen and rejected answers."""
        user = self.who(project, profile)
        try:
            pair = review.swap_chosen_rejected(self.store(project), pair_id, int(base), user)
        except ConflictError as conflict:
            raise gr.Error(str(conflict)) from conflict
        return self.show_pair(project, pair, "Swapped chosen and rejected.")

    @user_errors
    def undo(self, project: str, profile: gr.OAuthProfile | None) -> list[Any]:
        """Revert this reviewer's most recent edit."""
        pair = review.undo_last(self.store(project), self.who(project, profile))
        return self.show_pair(project, review.get_pair(self.store(project), pair["id"]), "Undone.")

    def step(self, delta: int) -> Callable[..., list[Any]]:
        """A handler that moves to the next (or previous) pair under the current filter."""
        @user_errors
        def handler(project: str, *values: Any) -> list[Any]:
            *filters, pair_id = values
            store, where = self.store(project), _filter(*filters)
            here = review.position(store, where, pair_id) if pair_id else -1
            rows, _ = review.page(store, where, max(0, here + delta) if here >= 0 else 0, 1)
            if not rows:
                return self.show_pair(project, None, "No more pairs under this filter.")
            return self.show_pair(project, rows[0])
        return handler

    @user_errors
    def preview_bulk(self, project: str, *values: Any) -> tuple[str, Any]:
        """How many pairs a bulk action would change; shows Confirm only when there are some."""
        *filters, action = values
        _, total = review.page(self.store(project), _filter(*filters), 0, 1)
        return (f"**{action}** will change up to **{total} pairs** matching the current filter. Confirm to apply.",
                gr.update(visible=total > 0))

    @user_errors
    def confirm_bulk(self, project: str, kind: str, family: str, status: str, split: str, negative: str, path: str,
                     text: str, action: str, profile: gr.OAuthProfile | None) -> tuple[str, Any]:
        """Apply the bulk action to every pair under the filter, each edit logged."""
        user = self.who(project, profile)
        where = _filter(kind, family, status, split, negative, path, text)
        changed = review.bulk_edit(self.store(project), where, BULK_ACTIONS[action], user)
        return f"✅ {action}: {changed} pairs changed by {user}.", gr.update(visible=False)

    def choices_for(self, project: str | None) -> tuple[Any, Any]:
        """Family and negative-kind choices present in the project's store."""
        if not project or not self.settings.workspace.project(project).curation_db.is_file():
            return gr.update(choices=[ANY], value=ANY), gr.update(choices=[ANY], value=ANY)
        counts = CurationStore(self.settings.workspace.project(project).curation_db).counts()
        return (gr.update(choices=[ANY, *counts["family"]], value=ANY),
                gr.update(choices=[ANY, *counts["negative_kind"]], value=ANY))

    def refresh_projects(self) -> Any:
        """Projects that have generated pairs; the first is selected."""
        projects = projects_with_pairs(self.settings.workspace)
        return gr.update(choices=projects, value=projects[0] if projects else None)


def projects_with_pairs(workspace: Workspace) -> list[str]:
    """The projects that have generated pairs to curate."""
    return [p for p in workspace.projects() if workspace.project(p).curation_db.is_file()]
