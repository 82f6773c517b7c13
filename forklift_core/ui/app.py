"""build_app(): the ForkLift Gradio app, one tab per pipeline stage."""

from __future__ import annotations

import os

import gradio as gr

from forklift_core.train.launch import warm_up_local_jobs
from forklift_core.ui.common import AppSettings, keep_projects_fresh, sign_in_section
from forklift_core.ui.tabs.compare import build_compare_tab
from forklift_core.ui.tabs.curate import SHORTCUTS_JS, build_curate_tab
from forklift_core.ui.tabs.curate_actions import projects_with_pairs
from forklift_core.ui.tabs.generate import build_generate_tab
from forklift_core.ui.tabs.hub import build_hub_tab
from forklift_core.ui.tabs.ingest import build_ingest_tab
from forklift_core.ui.tabs.train import build_train_tab

INTRO = ("# ForkLift\nTeach a language model one codebase: **ingest** a repository, generate grounded "
         "training data, curate it, train a LoRA adapter and compare base and tuned answers.")


def build_app(settings: AppSettings | None = None) -> gr.Blocks:
    """The whole app; reads its settings here, at build time, never at import."""
    settings = settings or AppSettings.from_env()
    # Handlers run in worker threads; transformers imported half-way by one while another's datasets code reads
    # its attributes fails. Importing it once here, before any handler runs, closes that race.
    import transformers  # noqa: F401
    with gr.Blocks(title="ForkLift") as demo:
        gr.Markdown(INTRO)
        sign_in_section(settings)
        with gr.Tab("Ingest", id="ingest"):
            build_ingest_tab(settings, demo)
        projects = settings.workspace.projects
        with gr.Tab("Generate", id="generate") as tab:
            keep_projects_fresh(tab, build_generate_tab(settings, demo), projects)
        with gr.Tab("Curate", id="curate") as tab:
            keep_projects_fresh(tab, build_curate_tab(settings, demo), lambda: projects_with_pairs(settings.workspace))
        with gr.Tab("Train", id="train") as tab:
            keep_projects_fresh(tab, build_train_tab(settings, demo), projects)
            if not settings.public:  # someone who opens the tab is about to train: the first run then starts warm
                tab.select(warm_up_local_jobs, None, None, queue=False)
        with gr.Tab("Compare", id="compare") as tab:
            keep_projects_fresh(tab, build_compare_tab(settings, demo), projects)
        with gr.Tab("Hub", id="hub") as tab:
            keep_projects_fresh(tab, build_hub_tab(settings, demo), projects)
    return demo


def launch(demo: gr.Blocks) -> None:
    """Serve on GRADIO_SERVER_NAME:GRADIO_SERVER_PORT (127.0.0.1:7860 by default)."""
    demo.queue(default_concurrency_limit=2).launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        head=SHORTCUTS_JS,
    )
