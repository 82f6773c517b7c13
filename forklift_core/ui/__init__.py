"""The Gradio app; Gradio is imported only inside this package."""

from forklift_core.ui.app import build_app

__all__ = ["build_app"]
