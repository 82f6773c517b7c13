"""ForkLift's Gradio app (a Hugging Face Space runs this file)."""

from forklift_core.ui import build_app

demo = build_app()

if __name__ == "__main__":
    from forklift_core.example import ensure_example_project
    from forklift_core.ui.app import launch
    from forklift_core.workspace import Workspace

    ensure_example_project(Workspace.default())
    launch(demo)
