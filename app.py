"""ForkLift's Gradio app (a Hugging Face Space runs this file)."""

# The ingest's worker processes (their fork server, or each spawned one) import this file as __mp_main__: they need none of the
# UI, so only a real import or run imports Gradio and builds it (two workers importing it took 5 s of every ingest).
if __name__ != "__mp_main__":
    from forklift_core.ui import build_app

    demo = build_app()
else:
    demo = None

if __name__ == "__main__":
    from forklift_core.example import ensure_example_project
    from forklift_core.hub.persistence import start_edit_log_sync_from_env
    from forklift_core.ui.app import launch
    from forklift_core.workspace import Workspace

    ensure_example_project(Workspace.default())
    start_edit_log_sync_from_env(Workspace.default())
    launch(demo)
