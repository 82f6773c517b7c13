"""Ingest tab: index a path, git URL or uploaded archive, then browse its symbols."""

from __future__ import annotations

import html

from typing import Any

import gradio as gr
import pandas as pd

from forklift_core.config import IngestConfig
from forklift_core.errors import BadInputError, NotFoundError
from forklift_core.ingest.index import ingest, reference_sources
from forklift_core.ingest.incremental import change_line
from forklift_core.ingest.tables import open_index
from forklift_core.progress import Progress
from forklift_core.curate.store import CurationStore
from forklift_core.generate.secrets import redact_for_display
from forklift_core.ui.common import AppSettings, CancelFlags, code_language, user_errors, writer

SYMBOL_COLUMNS = ["name", "kind", "language", "path", "line", "scope", "signature", "id"]
_PAGE = 500
_CANCEL_FLAGS = CancelFlags()


def summary_markdown(summary: dict[str, Any]) -> str:
    """The ingest summary as a short Markdown report."""
    kinds = ", ".join(f"{k} {v}" for k, v in list(summary.get("by_kind", {}).items())[:10]) or "none"
    languages = ", ".join(f"{k} {v}" for k, v in summary.get("by_language", {}).items()) or "none"
    skipped = ", ".join(f"{k} {v}" for k, v in summary.get("skipped", {}).items()) or "nothing"
    commit = summary.get("commit") or "no commit (not a git checkout)"
    return (f"**{summary['project']}** — {summary['files']} files, **{summary['symbols']} symbols**, "
            f"{summary['references']} references, {summary.get('build_facts', 0)} build facts "
            f"in {summary['seconds']} s with {summary.get('extractor', '?')}\n\n"
            f"- source: `{summary.get('source', {}).get('origin', '')}` at {commit}\n"
            f"- kinds: {kinds}\n- languages: {languages}\n- skipped: {skipped}"
            + (f"\n- references: {reference_sources(summary)}" if reference_sources(summary) else "")
            + (f"\n- {html.escape(change_line(summary))}" if change_line(summary) else ""))


def _symbols_frame(settings: AppSettings, project: str | None, search: str, kind: str) -> pd.DataFrame:
    if not project:
        return pd.DataFrame(columns=SYMBOL_COLUMNS)
    try:
        rows = open_index(settings.workspace.project(project)).symbols(
            query=search or None, kind=None if kind in ("", "all") else kind, limit=_PAGE)
    except NotFoundError:
        rows = []
    return pd.DataFrame([{c: r[c] for c in SYMBOL_COLUMNS} for r in rows], columns=SYMBOL_COLUMNS)


def _symbol_detail(settings: AppSettings, project: str, symbol_id: str) -> tuple[str, Any]:
    """Header with path, lines, doc and references, and the snippet itself."""
    reader = open_index(settings.workspace.project(project))
    symbol = reader.symbol(symbol_id)
    if symbol is None:
        return "Symbol not found (re-ingested since?)", ""
    refs = reader.references(symbol["name"])
    callers = [f"`{e['path']}:{e['line']}` {e['src_name'] or '(file level)'}" for e in refs["callers"]
               if e["dst_id"] in (symbol_id, "")][:12]
    fingerprints = _secret_fingerprints(settings, project)
    doc = redact_for_display(symbol["doc"], fingerprints).replace("\n", " ") if symbol["doc"] else \
        "_no docstring or leading comment_"
    header = (f"### `{symbol['name']}` — {symbol['kind']} in `{symbol['path']}` lines "
              f"{symbol['line']}–{symbol['end_line']}\n\n{doc}\n\n"
              f"**Used by ({len(callers)}):** " + (", ".join(callers) if callers else "no recorded callers"))
    snippet = redact_for_display(symbol["snippet"], fingerprints)
    return header, gr.update(value=snippet, language=code_language(symbol["path"]))


def _secret_fingerprints(settings: AppSettings, project: str) -> set[str]:
    """Fingerprints of the secrets generation found anywhere in the project (empty before generation)."""
    paths = settings.workspace.project(project)
    if not paths.curation_db.is_file():
        return set()
    return {hit["fingerprint"] for hit in CurationStore(paths.curation_db).secret_hits()}


def build_ingest_tab(settings: AppSettings, demo: gr.Blocks) -> None:
    """Source inputs, a cancellable ingest with progress, the summary and a searchable symbol table."""
    with gr.Row():
        project = gr.Textbox(label="Project name", value="my-repo", scale=1)
        source = gr.Textbox(label="Local path or https git URL" if not settings.public else "https git URL",
                            placeholder="https://github.com/owner/repo or /path/to/repo", scale=3)
        upload = gr.File(label="…or upload a .zip / .tar.gz", file_types=[".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz"],
                         elem_id="archive-upload",
                         type="filepath", scale=2)
    with gr.Row():
        run = gr.Button("Ingest", variant="primary")
        cancel = gr.Button("Cancel", variant="stop")
    summary = gr.Markdown(elem_id="ingest-summary")
    gr.Markdown("### Symbols")
    with gr.Row():
        browse_project = gr.Dropdown(label="Project", choices=settings.workspace.projects(), scale=2,
                                     elem_id="browse-project")
        search = gr.Textbox(label="Search name or path", scale=3, elem_id="symbol-search")
        kind = gr.Dropdown(label="Kind", choices=["all", "function", "method", "class", "struct", "interface",
                                                   "trait", "enum", "type", "macro", "variable", "field"],
                           value="all", scale=1)
    table = gr.Dataframe(headers=SYMBOL_COLUMNS, interactive=False, max_height=400, elem_id="symbol-table")
    detail = gr.Markdown(elem_id="symbol-detail")
    snippet = gr.Code(label="Source", interactive=False, elem_id="symbol-snippet")

    @user_errors
    def do_ingest(name: str, spec: str, uploaded: str | None, request: gr.Request, profile: gr.OAuthProfile | None,
                  progress: gr.Progress = gr.Progress()) -> tuple[str, Any, pd.DataFrame]:
        chosen = uploaded or (spec or "").strip()
        if not chosen:
            raise BadInputError("give a path, an https git URL or an archive to ingest")
        person = writer(settings, profile, name.strip(), "ingest a repository")
        flag = _CANCEL_FLAGS.start(request)
        config = IngestConfig(allow_local_paths=not settings.public)
        report = Progress(lambda fraction, message: progress(fraction, desc=message), flag)
        result = ingest(chosen, name.strip(), settings.workspace, config, report, uploaded=bool(uploaded),
                        owner=person.name if settings.public else None)
        projects = settings.workspace.projects()
        frame = _symbols_frame(settings, result["project"], "", "all")
        return summary_markdown(result), gr.update(choices=projects, value=result["project"]), frame

    def refresh(project_name: str | None, text: str, kind_name: str) -> tuple[str, pd.DataFrame]:
        if not project_name:
            return "", _symbols_frame(settings, None, "", "all")
        try:
            manifest = settings.workspace.project(project_name).read_manifest()
        except NotFoundError:
            return f"Project {project_name} has no index yet.", _symbols_frame(settings, None, "", "all")
        return summary_markdown(manifest), _symbols_frame(settings, project_name, text, kind_name)

    @user_errors
    def select(project_name: str, frame: pd.DataFrame, evt: gr.SelectData) -> tuple[str, Any]:
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        return _symbol_detail(settings, project_name, str(frame.iloc[row]["id"]))

    run.click(do_ingest, [project, source, upload], [summary, browse_project, table])
    cancel.click(_CANCEL_FLAGS.cancel, None, summary, queue=False)
    browse_project.change(refresh, [browse_project, search, kind], [summary, table])
    search.submit(refresh, [browse_project, search, kind], [summary, table])
    kind.change(refresh, [browse_project, search, kind], [summary, table])
    table.select(select, [browse_project, table], [detail, snippet])

    def on_load() -> Any:
        # The summary and table are filled here too: when the chosen project is the one the dropdown was built
        # with (an app restarted on a workspace that already had it), no change event would fill them.
        projects = settings.workspace.projects()
        chosen = projects[0] if projects else None
        return (gr.update(choices=projects, value=chosen), *refresh(chosen, "", "all"))

    demo.load(on_load, None, [browse_project, summary, table])
