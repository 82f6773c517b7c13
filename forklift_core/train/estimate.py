"""A rough time estimate for a plan on this hardware, so the app can warn before a run that will not finish soon."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

# Sustained training FLOP/s seen here for a small model in fp32 on one CPU core (measure with bench/train.py).
CPU_FLOPS_PER_CORE = 4e9
GPU_FLOPS = 5e13


@dataclass(frozen=True)
class Estimate:
    """Parameters, tokens and seconds of a planned run."""

    parameters: int
    tokens: int
    seconds: float

    def hint(self) -> str:
        """A sentence for the Train tab."""
        minutes = self.seconds / 60
        size = f"{self.parameters / 1e6:.0f}M parameters" if self.parameters else "unknown size"
        text = f"≈ {minutes:.0f} min for {self.tokens:,} training tokens on {size}"
        if minutes > 60:
            text += " — this will take very long on this hardware; lower max steps or use a GPU backend"
        return text


def parameter_count(model_dir: str) -> int:
    """Parameters of a llama-like model from its config.json (0 when it cannot be read)."""
    try:
        config = json.loads((Path(model_dir) / "config.json").read_text())
    except (OSError, ValueError):
        return 0
    hidden, layers = config.get("hidden_size", 0), config.get("num_hidden_layers", 0)
    inner, vocab = config.get("intermediate_size", 4 * hidden), config.get("vocab_size", 0)
    return layers * (4 * hidden * hidden + 3 * hidden * inner) + vocab * hidden


def estimate(parameters: int, steps: int, batch_size: int, tokens_per_row: int, cuda: bool = False) -> Estimate:
    """Forward and backward cost 6 FLOPs per parameter per token; throughput is this machine's rough rate."""
    tokens = steps * batch_size * tokens_per_row
    rate = GPU_FLOPS if cuda else CPU_FLOPS_PER_CORE * (os.cpu_count() or 1)
    return Estimate(parameters, tokens, 6 * parameters * tokens / rate if parameters else 0.0)
