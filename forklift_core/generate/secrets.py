"""Secret scanning: detect-secrets' plugins used directly (no allowlist pragmas) plus ForkLift's own rules."""

from __future__ import annotations

import hashlib
import math
import posixpath
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

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


@lru_cache(maxsize=1 << 20)
def _plugin_findings(suffix: str, line: str) -> tuple[tuple[str, str], ...]:
    """detect-secrets' findings on one line of a file with this suffix (the keyword plugin reads the file type).

    Remembered: a snippet is the evidence of several facts and comes back inside their answers, so most lines are
    seen many times in one generation.
    """
    found = []
    for plugin in _plugins():
        # analyze_line directly: the repository's own "pragma: allowlist secret" comments are not trusted.
        for secret in plugin.analyze_line(filename=f"snippet{suffix}", line=line, line_number=1):
            if secret.secret_value:
                found.append((secret.type, secret.secret_value))
    return tuple(found)


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
    suffix = posixpath.splitext(path)[1]
    for number, line in enumerate(text.splitlines(), first_line):
        found.extend((kind, value, number) for kind, value in _plugin_findings(suffix, line))
    return found


def _trie_pattern(values: Iterable[str]) -> str:
    """A regex matching any of the values, longest first, with shared prefixes factored out.

    Hundreds of values as a plain alternation are tried one by one at every position of every text; as a trie the
    first character already rules out almost all of them.
    """
    trie: dict[str, Any] = {}
    for value in values:
        node = trie
        for char in value:
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        parts = []
        while len(node) == 1 and "" not in node:  # a chain of single children: no group needed
            (char, node), = node.items()
            parts.append(re.escape(char))
        branches = [re.escape(char) + emit(child) for char, child in sorted(node.items()) if char]
        if branches:
            body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
            parts.append(f"(?:{body})?" if "" in node else body)
        return "".join(parts)

    return emit(trie)


def scanner_version() -> str:
    """What a clean verdict depends on: ForkLift's rules, its skipped plugins and detect-secrets' version."""
    from forklift_core.versions import package_version

    rules = "|".join([p.pattern for _, p in _RULES] + [_PROSE_SECRET.pattern, _TOKEN_CANDIDATE.pattern,
                                                       str(_MIN_TOKEN_ENTROPY), *sorted(_SKIPPED_PLUGINS)])
    return hashlib.sha256(f"{rules}|{package_version('detect-secrets')}".encode()).hexdigest()[:16]


class CleanTexts:
    """Digests of texts a scan found nothing in, kept beside a project so a regeneration scans only new text.

    Only clean verdicts are kept (a text with a finding is scanned every time), and never a text itself. The file
    starts with the scanner version: other rules or another detect-secrets mean an empty cache.
    """

    _DIGEST = 16

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._known: set[bytes] = set()
        self._added = 0
        if path is not None and path.is_file():
            data = path.read_bytes()
            version, _, digests = data.partition(b"\n")
            if version.decode(errors="replace") == scanner_version():
                self._known = {digests[i:i + self._DIGEST] for i in range(0, len(digests), self._DIGEST)}

    @classmethod
    def digest(cls, text: str, suffix: str) -> bytes:
        """The key of one text as a file of this suffix would be scanned."""
        return hashlib.blake2b(f"{suffix}\0{text}".encode(), digest_size=cls._DIGEST).digest()

    def __contains__(self, key: bytes) -> bool:
        return key in self._known

    def add(self, key: bytes) -> None:
        """Remember one clean text."""
        if key not in self._known:
            self._known.add(key)
            self._added += 1

    def save(self) -> None:
        """Write the digests back when anything was added (atomically: a crash keeps the old file)."""
        if self.path is None or not self._added:
            return
        from forklift_core.workspace import atomic_path

        with atomic_path(self.path) as tmp:
            tmp.write_bytes(scanner_version().encode() + b"\n" + b"".join(sorted(self._known)))
        self._added = 0


class SecretRedactor:
    """Redacts each secret value wherever it appears, once it was detected anywhere.

    `learn` every text first, then `redact`: a password found in one file's config is also removed from another
    file's docstring where no rule would have spotted it. Values are held in memory only, never written.
    """

    def __init__(self, clean: CleanTexts | None = None) -> None:
        self.clean = clean or CleanTexts()
        self._kinds: dict[str, str] = {}  # value -> kind
        self._pattern: re.Pattern[str] | None = None
        self._pattern_size = 0
        self.hits: list[SecretHit] = []

    def learn(self, text: str, path: str = "", first_line: int = 1) -> None:
        """Detect the secrets in a text and remember their values (a text known clean is not scanned again)."""
        if not text:
            return
        key = CleanTexts.digest(text, posixpath.splitext(path)[1])
        if key in self.clean:
            return
        found = [(kind, value, line) for kind, value, line in detect(text, path, first_line) if value and value.strip()]
        for kind, value, line in found:
            self._kinds.setdefault(value, kind)
            self.hits.append(SecretHit(kind, path, line, _fingerprint(value)))
        if not found:
            self.clean.add(key)

    def redact(self, text: str) -> str:
        """The text with every known value replaced by [REDACTED:kind] (longest values first)."""
        if not text or not self._kinds:
            return text
        if self._pattern is None or self._pattern_size != len(self._kinds):
            # One pattern for every value, rebuilt only when a value was learnt: a pass per text, not per value.
            self._pattern = re.compile(_trie_pattern(self._kinds))
            self._pattern_size = len(self._kinds)
        return self._pattern.sub(lambda m: f"[REDACTED:{self._kinds[m.group(0)]}]", text)


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
