"""Hugging Face Hub: tokens, cards, staged pushes of datasets and adapters, and pulls back into a workspace."""
