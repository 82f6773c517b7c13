"""Hub tab (planned): push datasets and adapters with cards."""

from forklift_core.ui.common import coming_soon


def build_hub_tab() -> None:
    """Describe the Hub stage until it is built."""
    coming_soon("Hub", "Push the curated dataset and trained adapters to the Hugging Face Hub with cards that "
                "carry their provenance; pull them back into a workspace.")
