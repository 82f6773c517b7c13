"""Train: a plan, a self-contained job (SFT then DPO with LoRA) and launchers that run it."""
