"""Train tab (planned): LoRA/QLoRA SFT then DPO with live loss curves."""

from forklift_core.ui.common import coming_soon


def build_train_tab() -> None:
    """Describe the training stage until it is built."""
    coming_soon("Train", "A training plan with sensible defaults and its equivalent CLI command; SFT then DPO in "
                "its own process, with live training and validation loss, tokens/s, ETA, cancel and resume.")
