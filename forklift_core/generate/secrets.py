"""Secret scanning: detect-secrets' plugins used directly (no allowlist pragmas) plus ForkLift's own rules."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# Rules for the credentials most likely to leak into a code-model dataset.
_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Hugging Face token", re.compile(r"\bhf_[A-Za-z0-9]{30,}\b")),
    ("OpenAI key", re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}")),
    ("AWS access key id", re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b")),
    ("AWS secret access key", re.compile(
        r"(?i)aws.{0,20}?(?:secret|private).{0,20}?['\"]?\s*[:=]\s*['\"]?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])")),
    ("GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b")),
    ("Private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY( BLOCK)?-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY"
                               r"( BLOCK)?-----|\Z)")),
)
# detect-secrets plugins left out: entropy and IP detectors flag hashes, test vectors and addresses in ordinary code.
_SKIPPED_PLUGINS = {"Base64 High Entropy String", "Hex High Entropy String", "Public IP (ipv4)"}


@dataclass(frozen=True)
class SecretHit:
    """One redacted secret: where it was and what kind (never the value itself)."""

    kind: str
    path: str
    line: int
    fingerprint: str  # sha256 prefix of the value, so a reviewer can match repeats without seeing it


@lru_cache(maxsize=1)
def _plugins() -> tuple[Any, ...]:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    return tuple(cls() for name, cls in get_mapping_from_secret_type_to_class().items() if name not in _SKIPPED_PLUGINS)


def _fingerprint(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:12]


def redact(text: str, path: str = "", first_line: int = 1) -> tuple[str, list[SecretHit]]:
    """The text with every secret replaced by [REDACTED:kind], and the hits."""
    if not text:
        return text, []
    hits: list[SecretHit] = []
    found: list[tuple[str, str, int]] = []  # (kind, value, line)
    for kind, pattern in _RULES:
        for match in pattern.finditer(text):
            value = match.group(1) if pattern.groups and match.group(1) and kind.startswith("AWS secret") else match.group(0)
            found.append((kind, value, first_line + text.count("\n", 0, match.start())))
    for number, line in enumerate(text.splitlines(), first_line):
        for plugin in _plugins():
            # analyze_line directly: the repository's own "pragma: allowlist secret" comments are not trusted.
            for secret in plugin.analyze_line(filename=path or "snippet", line=line, line_number=number):
                if secret.secret_value:
                    found.append((secret.type, secret.secret_value, number))
    for kind, value, line_number in sorted(found, key=lambda f: -len(f[1])):
        if value in text:
            text = text.replace(value, f"[REDACTED:{kind}]")
            hits.append(SecretHit(kind, path, line_number, _fingerprint(value)))
    return text, hits
