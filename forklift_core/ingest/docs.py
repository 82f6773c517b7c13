"""Docs: what each folder or module is for, from READMEs and Python module docstrings."""

from __future__ import annotations

import posixpath
import re
from forklift_core.records import Doc, FileRecord

# Comment lines and blank space, then a string. Matched on the file's bytes (a module's leading space is ASCII), with
# the lead-in possessive: a long run of blank lines or comments before no docstring is passed over once.
_MODULE_DOCSTRING = re.compile(rb'(?:#[^\n]*\n|\s)*+[rRuU]?("""|\'\'\')(.*?)\1', re.DOTALL)
_DOCSTRING_SPAN = 20_000  # bytes of a module a docstring is looked for in
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


def module_docstring(data: bytes, max_chars: int) -> str:
    """A Python module's docstring, if it opens the file (only the docstring is decoded)."""
    match = _MODULE_DOCSTRING.match(data, 0, _DOCSTRING_SPAN)
    return " ".join(match.group(2).decode("utf-8", "replace").split())[:max_chars] if match else ""


def doc_of(record: FileRecord, data: bytes, max_chars: int = 1500) -> Doc | None:
    """A README's opening (any folder) or a Python module's docstring, from the file's bytes (the walk's read)."""
    name = posixpath.basename(record.path)
    directory = posixpath.dirname(record.path)
    if name.upper().startswith("README") and record.category in ("doc", "other"):
        title, prose = readme_opening(data.decode("utf-8", "replace"), max_chars)
        return Doc(record.path, directory, "readme", title, prose) if prose else None
    if record.language == "Python":
        text = module_docstring(data, max_chars)
        return Doc(record.path, directory, "module_docstring", name, text) if text else None
    return None
