"""Compare tab (planned): base and tuned answers side by side with scores."""

from forklift_core.ui.common import coming_soon


def build_compare_tab() -> None:
    """Describe the comparison stage until it is built."""
    coming_soon("Compare", "Base and tuned answers side by side with similarity to the reference, grounded fact "
                "accuracy and hallucination flags; the evaluation report; blind A/B judgments that feed curation.")
