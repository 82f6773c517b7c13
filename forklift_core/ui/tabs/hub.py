"""Hub tab: push the dataset and an adapter (shown before they go), finish staged pushes, pull repos back."""

from __future__ import annotations

import html
from typing import Any

import gradio as gr

from forklift_core.config import HubConfig
from forklift_core.curate.export import DEFAULT_STATUSES, UNREVIEWED
from forklift_core.curate.store import CurationStore
from forklift_core.errors import BadInputError
from forklift_core.hub import publish
from forklift_core.hub.auth import resolve_token
from forklift_core.hub.client import Hub
from forklift_core.hub.pull import pull_adapter, pull_dataset
from forklift_core.hub.staging import STAGED, load_push, pushes
from forklift_core.progress import Progress
from forklift_core.ui.common import AppSettings, user_errors, writer
from forklift_core.ui.tabs.compare import completed_runs


def _hub(settings: AppSettings, oauth_token: gr.OAuthToken | None) -> Hub:
    """The visitor's own token on a Space (never the Space's), HF_TOKEN or the saved login locally."""
    return Hub(resolve_token(oauth_token.token if oauth_token else None, settings.on_space), HubConfig())


def preview_markdown(preview: dict[str, Any]) -> str:
    """What one staged push will do, as Markdown: target, create or update, every file and whether it changes."""
    action = (f"updates the repository (head `{preview['head'][:10]}`)" if preview["repo_exists"]
              else "creates the repository, " + ("**private**" if preview["repo_private"] else "**PUBLIC**"))
    rows = "\n".join(f"| `{html.escape(path)}` | {info['size']:,} B | {info['change']} |"
                     for path, info in sorted(preview["files"].items()))
    problems = "".join(f"\n\n⚠️ {html.escape(p)}" for p in preview["problems"])
    return (f"**{html.escape(preview['summary'])}** — {action}\n\n| file | size | change |\n|---|---:|---|\n{rows}"
            + problems)


def secrets_markdown(settings: AppSettings, project: str | None) -> str:
    """The secret-scan findings nobody has reviewed (pushes wait for them)."""
    if not project:
        return ""
    paths = settings.workspace.project(project)
    if not paths.curation_db.is_file():
        return "No pairs generated yet."
    open_hits = CurationStore(paths.curation_db).unreviewed_secret_hits()
    if not open_hits:
        return "✅ No unreviewed secret-scan findings."
    return (f"⚠️ **{len(open_hits)} secret-scan finding(s) to review before anything is pushed** (values are "
            "redacted in every pair):\n" + "\n".join(f"- `{html.escape(h['path'])}:{h['line']}` {html.escape(h['kind'])}"
                                                     for h in open_hits[:20]))


def staged_markdown(settings: AppSettings, project: str | None) -> str:
    """Pushes staged earlier that have not gone (a failure, or the app stopped mid-push)."""
    if not project:
        return ""
    waiting = pushes(settings.workspace.project(project), STAGED)
    if not waiting:
        return "No staged pushes waiting."
    return "**Staged, not pushed yet:**\n" + "\n".join(
        f"- `{s.id}` {html.escape(s.summary())}" + (f" — last try: {html.escape(s.attempts[-1]['result'])}"
                                                    if s.attempts else "") for s in waiting)


def build_hub_tab(settings: AppSettings, demo: gr.Blocks) -> gr.Dropdown:
    """Project and run pickers, secret findings, stage → preview → push, waiting pushes, pull."""
    gr.Markdown("Push the curated dataset and a run's adapter to the Hugging Face Hub, **private unless you say "
                "otherwise**. Everything is staged and shown first; a failed push stays staged and finishes on retry."
                + (" You act as yourself: sign in with Hugging Face above." if settings.on_space else
                   " The token comes from `HF_TOKEN` or `hf auth login`."))
    with gr.Row():
        project = gr.Dropdown(label="Project", choices=settings.workspace.projects(), elem_id="hub-project")
        run = gr.Dropdown(label="Run whose adapter to push (optional)", choices=[], elem_id="hub-run")
    secrets = gr.Markdown(elem_id="hub-secrets")
    review = gr.Button("I looked at them: mark the findings reviewed", elem_id="hub-review", size="sm")
    with gr.Row():
        dataset_repo = gr.Textbox(label="Dataset repo", placeholder="you/project-pairs", elem_id="hub-dataset-repo")
        model_repo = gr.Textbox(label="Model repo (for the run's adapter)", placeholder="you/project-lora",
                                elem_id="hub-model-repo")
    with gr.Row():
        public = gr.Checkbox(label="Public (otherwise private)", value=False, elem_id="hub-public")
        unreviewed = gr.Checkbox(label="Include unreviewed pairs", value=False, elem_id="hub-unreviewed")
        stage = gr.Button("Stage and preview", variant="secondary", elem_id="hub-stage")
        send = gr.Button("Push", variant="primary", elem_id="hub-push")
    preview = gr.Markdown(elem_id="hub-preview")
    staged_ids = gr.State([])
    waiting = gr.Markdown(elem_id="hub-waiting")
    resume = gr.Button("Finish staged pushes", elem_id="hub-resume", size="sm")
    with gr.Accordion("Pull from the Hub", open=False):
        with gr.Row():
            pull_repo = gr.Textbox(label="Repo id", placeholder="you/project-lora", elem_id="hub-pull-repo")
            revision = gr.Textbox(label="Revision", value="main", elem_id="hub-pull-revision")
            what = gr.Radio(["adapter into the project above", "dataset into a new project"],
                            value="adapter into the project above", label="What", elem_id="hub-pull-what")
            new_project = gr.Textbox(label="New project name (dataset)", elem_id="hub-pull-project")
        pull = gr.Button("Pull", elem_id="hub-pull")
        pulled = gr.Markdown(elem_id="hub-pulled")

    def pick_project(name: str | None) -> tuple[Any, str, str]:
        runs = completed_runs(settings, name)
        return (gr.update(choices=runs, value=None), secrets_markdown(settings, name),
                staged_markdown(settings, name))

    @user_errors
    def do_review(name: str | None, profile: gr.OAuthProfile | None) -> str:
        if not name:
            raise gr.Error("choose a project first")
        person = writer(settings, profile, name, "review secret findings")
        CurationStore(settings.workspace.project(name).curation_db).review_secret_hits(person.name)
        return secrets_markdown(settings, name)

    @user_errors
    def do_stage(name: str | None, run_id: str | None, data_repo: str, lora_repo: str, is_public: bool,
                 with_pending: bool, profile: gr.OAuthProfile | None, oauth_token: gr.OAuthToken | None,
                 progress: gr.Progress = gr.Progress()) -> tuple[str, list[str], str]:
        if not name:
            raise gr.Error("choose a project first")
        writer(settings, profile, name, "push")
        if not data_repo.strip() and not (lora_repo.strip() and run_id):
            raise BadInputError("name a dataset repo, or a run and a model repo")
        hub = _hub(settings, oauth_token)
        paths = settings.workspace.project(name)
        staged = []
        progress(0.1, desc="staging")
        if data_repo.strip():
            statuses = DEFAULT_STATUSES + (UNREVIEWED if with_pending else ())
            staged.append(publish.stage_dataset(paths, data_repo.strip(), not is_public, statuses))
        if lora_repo.strip() and run_id:
            staged.append(publish.stage_adapter(paths, run_id, lora_repo.strip(), not is_public, data_repo.strip()))
        progress(0.6, desc="reading the Hub")
        previews = [publish.preview(hub, s) for s in staged]
        note = "\n\nNothing has been pushed yet: press **Push** to send it."
        return ("\n\n".join(preview_markdown(p) for p in previews) + note, [s.id for s in staged],
                staged_markdown(settings, name))

    @user_errors
    def do_push(name: str | None, ids: list[str], profile: gr.OAuthProfile | None,
                oauth_token: gr.OAuthToken | None, progress: gr.Progress = gr.Progress()) -> tuple[str, list[str], str]:
        if not name or not ids:
            raise gr.Error("press “Stage and preview” first: every push is shown before it goes")
        writer(settings, profile, name, "push")
        return _send(name, ids, oauth_token, progress)

    @user_errors
    def do_resume(name: str | None, profile: gr.OAuthProfile | None, oauth_token: gr.OAuthToken | None,
                  progress: gr.Progress = gr.Progress()) -> tuple[str, list[str], str]:
        if not name:
            raise gr.Error("choose a project first")
        writer(settings, profile, name, "push")
        return _send(name, [s.id for s in pushes(settings.workspace.project(name), STAGED)], oauth_token, progress)

    def _send(name: str, ids: list[str], oauth_token: gr.OAuthToken | None,
              progress: gr.Progress) -> tuple[str, list[str], str]:
        hub = _hub(settings, oauth_token)
        paths = settings.workspace.project(name)
        lines = []
        for number, push_id in enumerate(ids):
            staged = load_push(paths, push_id)
            done = publish.push(hub, paths, staged, Progress(
                lambda fraction, message: progress((number + fraction) / len(ids), desc=message)))
            lines.append(f"✅ pushed {html.escape(done.kind)} to **{html.escape(done.repo_id)}** at "
                         f"`{done.commit_oid[:10]}` — {html.escape(done.commit_url)}")
        return "\n\n".join(lines) or "Nothing was staged.", [], staged_markdown(settings, name)

    @user_errors
    def do_pull(name: str | None, repo: str, rev: str, kind: str, target: str, profile: gr.OAuthProfile | None,
                oauth_token: gr.OAuthToken | None, progress: gr.Progress = gr.Progress()) -> tuple[str, Any]:
        hub = _hub(settings, oauth_token)
        report = Progress(lambda fraction, message: progress(fraction, desc=message))
        if kind.startswith("dataset"):
            if not target.strip():
                raise gr.Error("name the new project the dataset goes into")
            person = writer(settings, profile, target.strip(), "pull a dataset")
            result = pull_dataset(hub, settings.workspace, target.strip(), repo.strip(), rev.strip() or "main", report,
                                  owner=person.name if settings.public else None)
            return (f"✅ {result['pairs']} pairs from **{html.escape(repo)}** are in project "
                    f"**{html.escape(result['project'])}**: curate them in the Curate tab.",
                    gr.update(choices=settings.workspace.projects()))
        if not name:
            raise gr.Error("choose the project the adapter was trained on (answers are checked against its index)")
        writer(settings, profile, name, "pull an adapter")
        run_id = pull_adapter(hub, settings.workspace, name, repo.strip(), rev.strip() or "main", report)
        return (f"✅ the adapter from **{html.escape(repo)}** is run `{run_id}` of **{html.escape(name)}**: "
                "choose it in the Compare tab.", gr.update())

    project.change(pick_project, project, [run, secrets, waiting])

    def on_load() -> Any:
        projects = settings.workspace.projects()
        return gr.update(choices=projects, value=projects[0] if projects else None)

    demo.load(on_load, None, project).then(pick_project, project, [run, secrets, waiting])
    review.click(do_review, project, secrets)
    stage.click(do_stage, [project, run, dataset_repo, model_repo, public, unreviewed], [preview, staged_ids, waiting])
    send.click(do_push, [project, staged_ids], [preview, staged_ids, waiting])
    resume.click(do_resume, project, [preview, staged_ids, waiting])
    pull.click(do_pull, [project, pull_repo, revision, what, new_project], [pulled, project])
    return project
