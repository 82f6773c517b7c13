"""Retention prompts: general programming questions shipped with ForkLift, to catch catastrophic forgetting."""

from __future__ import annotations

from pathlib import Path

PROMPTS_FILE = Path(__file__).with_name("data") / "retention_prompts.txt"


def retention_prompts() -> list[str]:
    """The shipped prompts (comment lines skipped)."""
    lines = PROMPTS_FILE.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]
