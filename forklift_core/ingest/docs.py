"""Docs: what each folder or module is for, from READMEs and Python module docstrings."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Iterable

from forklift_core.records import Doc, FileRecord

_MODULE_DOCSTRING = re.compile(r'^\s*(?:#[^\n]*\n|\s)*[rRuU]?("""|\'\'\')(.*?)\1', re.DOTALL)
_NOISE = re.compile(r"^\s*(<|!\[|\[!\[|---|===|\||```)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*)|^(.+)\n[=-]{3,}\s*$", re.MULTILINE)


def readme_opening(text: str, max_chars: int) -> tuple[str, str]:
    """(title, first prose paragraphs) of a README, skipping badges, HTML and code."""
    if text.startswith("---\n"):  # YAML front matter (a Space or a static site) is metadata, not prose
        end = text.find("\n---", 4)
        text = text[end + 4:] if end > 0 else text
    title = ""
    heading = _HEADING.search(text)
    if heading:
        title = (heading.group(1) or heading.group(2) or "").strip().strip("#").strip()
    paragraphs: list[str] = []
    current: list[str] = []
    in_code = False
    for line in text.splitlines():
        if line.strip().startswith(("```", "~~~")):
            in_code = not in_code
            continue
        if in_code or line.lstrip().startswith("#") or _NOISE.match(line) or re.match(r"^[=-]{3,}\s*$", line):
            if current:
                paragraphs.append(" ".join(current))
                current = []
            continue
        if line.strip():
            current.append(line.strip())
        elif current:
            paragraphs.append(" ".join(current))
            current = []
        if sum(len(p) for p in paragraphs) > max_chars:
            break
    if current:
        paragraphs.append(" ".join(current))
    kept: list[str] = []
    for paragraph in (p for p in paragraphs if len(p) > 20 and p != title):
        if kept and sum(len(k) for k in kept) + len(paragraph) > max_chars:
            break  # whole paragraphs only
        kept.append(paragraph[:max_chars])
    return title, "\n\n".join(kept)


def module_docstring(text: str, max_chars: int) -> str:
    """A Python module's docstring, if it opens the file."""
    match = _MODULE_DOCSTRING.match(text[:20_000])
    return " ".join(match.group(2).split())[:max_chars] if match else ""


def extract_docs(root: Path, files: Iterable[FileRecord], max_chars: int = 1500) -> list[Doc]:
    """READMEs (any folder) and docstrings of Python modules and packages."""
    docs: list[Doc] = []
    for record in files:
        name = posixpath.basename(record.path)
        directory = posixpath.dirname(record.path)
        if name.upper().startswith("README") and record.category in ("doc", "other"):
            title, prose = readme_opening((root / record.path).read_text(encoding="utf-8", errors="replace"), max_chars)
            if prose:
                docs.append(Doc(record.path, directory, "readme", title, prose))
        elif record.language == "Python":
            with open(root / record.path, encoding="utf-8", errors="replace") as handle:
                head = handle.read(20_000)
            text = module_docstring(head, max_chars)
            if text:
                docs.append(Doc(record.path, directory, "module_docstring", name, text))
    return docs
