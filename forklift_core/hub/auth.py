"""Whose token a Hub call carries: the signed-in visitor's on a Space, HF_TOKEN or `hf auth login` locally.

On a Space the process environment holds the Space owner's secrets; a visitor who has not signed in must never
act with them, so there the only token is the one OAuth gave the visitor. Tokens are passed to every call
explicitly and never written anywhere; `redact` keeps them out of the messages we show.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from forklift_core.errors import AccessDeniedError

_TOKEN_SHAPE = re.compile(r"hf_[A-Za-z0-9]{8,}")


@dataclass(frozen=True)
class HubToken:
    """A token and where it came from (shown to the user; the value never is)."""

    value: str
    source: str  # "sign-in", "HF_TOKEN", "hf auth login", "given"

    def __repr__(self) -> str:  # a token in a traceback or a log line is a leaked token
        return f"HubToken(source={self.source!r}, value=<hidden>)"


def resolve_token(signed_in: str | None = None, on_space: bool = False) -> HubToken:
    """The token for a Hub call: the visitor's own on a Space (no fallback), else HF_TOKEN, else the saved login."""
    if signed_in:
        return HubToken(signed_in, "sign-in")
    if on_space:
        raise AccessDeniedError("sign in with Hugging Face first: pushes and pulls act as you, never as the Space")
    if os.environ.get("HF_TOKEN"):
        return HubToken(os.environ["HF_TOKEN"], "HF_TOKEN")
    from huggingface_hub import get_token

    saved = get_token()
    if saved:
        return HubToken(saved, "hf auth login")
    raise AccessDeniedError("no Hugging Face token: set HF_TOKEN or run `hf auth login` (a token with write access "
                            "to push, read access to pull)")


def redact(text: str, *tokens: str) -> str:
    """Text with the given tokens, and anything shaped like a Hugging Face token, replaced by `hf_***`."""
    for token in tokens:
        if token:
            text = text.replace(token, "hf_***")
    return _TOKEN_SHAPE.sub("hf_***", text)
