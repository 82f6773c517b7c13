"""Secret scanning: detect-secrets' plugins used directly (no allowlist pragmas) plus ForkLift's own rules."""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
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
# Prose: "the default password is X", "API key: X". The value must hold a digit or a symbol (or be quoted), so
# ordinary sentences ("the password is required") are not redacted.
_PROSE_SECRET = re.compile(
    r"(?i)\b(?:password|passwd|passphrase|pass ?code|secret(?: key)?|api[ _-]?key|access[ _-]?token|auth[ _-]?token)"
    r"\b\s*(?:is|was|=|:)\s*(?:(?P<q>[`'\"])(?P<quoted>[^`'\"\s]{4,})(?P=q)"
    r"|(?P<bare>(?=[^\s`'\"]*[0-9!@#$%^&*+=~?])[^\s`'\",;()]{6,}?))(?=[\s.,;:)]|$)")
# Entropy policy for unlabelled tokens: 32+ characters of one token alphabet with upper case, lower case and digits,
# and at least 4 bits of entropy per character, is treated as a credential. Pure hex (hashes, commit ids, UUIDs)
# and plain identifiers (no digits) are left alone: they are facts about the code, not secrets.
_TOKEN_CANDIDATE = re.compile(r"(?<![A-Za-z0-9_+/=-])[A-Za-z0-9_+/=-]{32,}(?![A-Za-z0-9_+/=-])")
_MIN_TOKEN_ENTROPY = 4.0
# Words a detected value is matched against when it is looked for elsewhere (see redact_fingerprints).
_TOKEN_SPLIT = re.compile(r"[^\s`'\",;()\[\]{}<>]+")
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


def shannon_entropy(value: str) -> float:
    """Bits of entropy per character of a string."""
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values()) if value else 0.0


def is_high_entropy_token(value: str) -> bool:
    """True for an unlabelled token the entropy policy treats as a credential."""
    classes = (any(c.isupper() for c in value), any(c.islower() for c in value), any(c.isdigit() for c in value))
    return all(classes) and shannon_entropy(value) >= _MIN_TOKEN_ENTROPY


def detect(text: str, path: str = "", first_line: int = 1) -> list[tuple[str, str, int]]:
    """Every (kind, value, line) that looks like a secret in the text."""
    found: list[tuple[str, str, int]] = []

    def line_of(offset: int) -> int:
        return first_line + text.count("\n", 0, offset)

    for kind, pattern in _RULES:
        for match in pattern.finditer(text):
            value = match.group(1) if pattern.groups and match.group(1) and kind.startswith("AWS secret") else match.group(0)
            found.append((kind, value, line_of(match.start())))
    for match in _PROSE_SECRET.finditer(text):
        value = match.group("quoted") or match.group("bare")
        found.append(("Credential in prose", value, line_of(match.start())))
    for match in _TOKEN_CANDIDATE.finditer(text):
        if is_high_entropy_token(match.group(0)):
            found.append(("High-entropy token", match.group(0), line_of(match.start())))
    for number, line in enumerate(text.splitlines(), first_line):
        for plugin in _plugins():
            # analyze_line directly: the repository's own "pragma: allowlist secret" comments are not trusted.
            for secret in plugin.analyze_line(filename=path or "snippet", line=line, line_number=number):
                if secret.secret_value:
                    found.append((secret.type, secret.secret_value, number))
    return found


class SecretRedactor:
    """Redacts each secret value wherever it appears, once it was detected anywhere.

    `learn` every text first, then `redact`: a password found in one file's config is also removed from another
    file's docstring where no rule would have spotted it. Values are held in memory only, never written.
    """

    def __init__(self) -> None:
        self._kinds: dict[str, str] = {}  # value -> kind
        self.hits: list[SecretHit] = []

    def learn(self, text: str, path: str = "", first_line: int = 1) -> None:
        """Detect the secrets in a text and remember their values."""
        for kind, value, line in detect(text, path, first_line) if text else []:
            if value and value.strip():
                self._kinds.setdefault(value, kind)
                self.hits.append(SecretHit(kind, path, line, _fingerprint(value)))

    def redact(self, text: str) -> str:
        """The text with every known value replaced by [REDACTED:kind] (longest values first)."""
        if not text or not self._kinds:
            return text
        for value in sorted(self._kinds, key=len, reverse=True):
            if value in text:
                text = text.replace(value, f"[REDACTED:{self._kinds[value]}]")
        return text


def redact(text: str, path: str = "", first_line: int = 1) -> tuple[str, list[SecretHit]]:
    """The text with every secret replaced by [REDACTED:kind], and the hits."""
    redactor = SecretRedactor()
    redactor.learn(text, path, first_line)
    return redactor.redact(text), redactor.hits


def redact_fingerprints(text: str, fingerprints: set[str], kind: str = "known secret") -> str:
    """Redact words whose fingerprint is among those recorded for a project (values themselves are never kept)."""
    if not text or not fingerprints:
        return text
    return _TOKEN_SPLIT.sub(lambda m: f"[REDACTED:{kind}]" if _fingerprint(m.group(0)) in fingerprints else m.group(0),
                            text)


def redact_for_display(text: str, fingerprints: set[str]) -> str:
    """Index text as shown to a visitor: its own secrets redacted, and any value detected elsewhere in the project."""
    return redact_fingerprints(redact(text)[0], fingerprints)
