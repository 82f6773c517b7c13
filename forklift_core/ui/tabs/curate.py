"""Curate tab (planned): review, edit, accept and reject generated pairs."""

from forklift_core.ui.common import coming_soon


def build_curate_tab() -> None:
    """Describe the curation stage until it is built."""
    coming_soon("Curate", "A paginated, filterable table of generated Q&A and preference pairs with the evidence "
                "beside each one; accept, reject, flag or edit with keyboard shortcuts; every edit saved at once "
                "with an append-only log, optimistic versions and undo.")
