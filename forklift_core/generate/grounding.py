"""Grounding checks: an answer naming a path or symbol the index does not hold is a hallucination."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

_BACKTICKED = re.compile(r"`([^`\n]{1,200})`")
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_FILE_EXTENSIONS = frozenset({
    "py", "pyi", "c", "h", "cc", "cpp", "cxx", "hpp", "hh", "js", "mjs", "cjs", "jsx", "ts", "tsx", "go", "rs", "java",
    "rb", "php", "cs", "kt", "sh", "lua", "md", "rst", "txt", "toml", "json", "yaml", "yml", "cfg", "ini", "mod",
})


@dataclass
class Vocabulary:
    """Every path, folder and name the index holds (names include parameters and types from signatures)."""

    paths: set[str] = field(default_factory=set)
    directories: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)

    @classmethod
    def build(cls, paths: Iterable[str], symbols: Iterable[dict], build_commands: Iterable[str] = ()) -> "Vocabulary":
        """From the index's file paths and symbol rows."""
        vocab = cls()
        for path in paths:
            vocab.paths.add(path)
            vocab.names.add(posixpath.basename(path))
            folder = posixpath.dirname(path)
            while folder:
                vocab.directories.add(folder)
                folder = posixpath.dirname(folder)
        for s in symbols:
            vocab.names.add(s["name"])
            vocab.names.update(_IDENTIFIER.findall(s["scope"]))
            vocab.names.update(_IDENTIFIER.findall(s["signature"]))
            header = s["snippet"].split("\n", 1)[0] if s.get("snippet") else ""
            vocab.names.update(_IDENTIFIER.findall(header))  # return types and decorators on the definition line
        vocab.names.update(c for c in build_commands)
        return vocab

    @classmethod
    def from_index(cls, reader: Any) -> "Vocabulary":
        """Everything one project's index holds (an IndexReader)."""
        return cls.build(reader.table("files")["path"].to_pylist(), reader.symbols(),
                         [f["command"] for f in reader.build_facts()])

    def knows(self, mention: str) -> bool:
        """True when a backticked mention is a known path, folder, name or dotted chain of names."""
        cleaned = without_line(mention.strip()).rstrip("/")
        if not cleaned or cleaned in self.paths or cleaned in self.directories:
            return True
        if looks_like_path(cleaned) or mention.strip().endswith("/"):
            return False
        chain = re.sub(r"\(.*\)$", "", cleaned)
        parts = [p for p in re.split(r"\.|::", chain) if p]
        return all(p in self.names for p in parts) if parts else True


def without_line(text: str) -> str:
    """A mention without its trailing :line (or :line:column)."""
    return re.sub(r"(:\d+)+$", "", text)


def looks_like_path(text: str) -> bool:
    """A mention with a folder separator or a source-file extension."""
    if "/" in text:
        return True
    _, dot, extension = text.rpartition(".")
    return bool(dot) and extension.lower() in _FILE_EXTENSIONS


def mentions(text: str) -> list[str]:
    """Backticked spans that name something (code with spaces, like a command or a signature, is skipped)."""
    return [m for m in _BACKTICKED.findall(text) if " " not in m.strip()]


def ungrounded_mentions(text: str, vocab: Vocabulary) -> list[str]:
    """The backticked paths and names in text that the index does not hold."""
    return [m for m in mentions(text) if not vocab.knows(m)]
