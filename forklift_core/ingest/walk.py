"""Walk a tree: respect .gitignore, skip what should not be indexed and count why."""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections import Counter
from dataclasses import dataclass, field
import fnmatch
from pathlib import Path
from typing import Callable

import pathspec

from forklift_core.config import IngestConfig
from forklift_core.ingest.buffers import READ_NO_FOLLOW
from forklift_core.ingest.docs import doc_of
from forklift_core.ingest.languages import file_category, language_for
from forklift_core.ingest.names import unsafe_name_reason
from forklift_core.progress import Progress
from forklift_core.records import Doc, FileRecord

GENERATED_NAME_PATTERNS = (
    "*.min.js", "*.min.css", "*_pb2.py", "*_pb2_grpc.py", "*.pb.go", "*.pb.cc", "*.pb.h",
    "*.generated.*", "*.g.dart", "*.lock", "package-lock.json", "pnpm-lock.yaml",
)
# Only the ecosystem's own conventions: "do not edit" prose alone would drop real, hand-read modules.
_GENERATED_MARKER = re.compile(
    rb"^(?://|#|/\*|\*|--)?\s*(?:Code generated .* DO NOT EDIT\.|@generated\b)", re.MULTILINE
)
_SNIFF_BYTES = 8192
_NAMED_GROUP = re.compile(r"\(\?P<[^>]*>")
# One pattern for every generated-file name (fnmatch per pattern per file was a sixth of a kernel walk).
_GENERATED_NAME = re.compile("|".join(fnmatch.translate(p) for p in GENERATED_NAME_PATTERNS))


@dataclass
class WalkResult:
    """Files kept and files skipped, by reason, with the docs read from the kept files' text on the way."""

    files: list[FileRecord] = field(default_factory=list)
    docs: list[Doc] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    warnings: Counter[str] = field(default_factory=Counter)


class _IgnoreRules:
    """.gitignore files found so far, each applied relative to its own directory."""

    def __init__(self) -> None:
        self._specs: dict[str, tuple[pathspec.PathSpec, re.Pattern[str] | None]] = {}  # by the folder they are in

    def load(self, folder_fd: int, rel_dir: str) -> None:
        """The folder's own .gitignore, if it has one (a regular file: a symlink is not followed), opened relative
        to the folder."""
        try:
            fd = os.open(".gitignore", READ_NO_FOLLOW, dir_fd=folder_fd)
        except OSError:
            return  # none (the usual case), a symlink, or unreadable
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return
            with os.fdopen(fd, "rb", closefd=False) as ignore:
                lines = ignore.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return
        finally:
            os.close(fd)
        spec = pathspec.GitIgnoreSpec.from_lines(lines)
        self._specs[rel_dir] = (spec, _any_ignoring(spec))

    def ignored(self, rel_path: str, is_dir: bool) -> bool:
        """Whether a .gitignore in one of the path's folders ignores it (only those folders' files are looked up:
        a kernel has hundreds, and trying each on every path was a sixth of its walk)."""
        candidate = rel_path + "/" if is_dir else rel_path
        folder = rel_path
        while folder:
            folder = folder.rpartition("/")[0]
            found = self._specs.get(folder)
            if found is None:
                continue
            spec, ignoring = found
            relative = candidate[len(folder) + 1:] if folder else candidate
            if (ignoring is None or ignoring.match(relative)) and spec.match_file(relative):
                return True
        return False


def _any_ignoring(spec: pathspec.PathSpec) -> re.Pattern[str] | None:
    """One pattern that matches wherever any of the spec's ignoring patterns does: a path it misses is not ignored
    (a negation only brings back what another pattern ignored), so the spec's own pattern-by-pattern match in
    Python runs only for the few it hits. None when the patterns are not plain regular expressions."""
    try:
        parts = [_NAMED_GROUP.sub("(?:", pattern.regex.pattern) for pattern in spec.patterns
                 if pattern.include and pattern.regex is not None]
        return re.compile("|".join(f"(?:{part})" for part in parts)) if parts else re.compile(r"(?!)")
    except (AttributeError, TypeError, re.error):
        return None


def count_lines(data: bytes) -> int:
    """Lines in a file, counting a last line without a newline."""
    return data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)


def read_capped(fd: int, expected: int, cap: int) -> bytes:
    """A file's bytes, at most cap + 1 of them (one more shows it is over the cap): asked for in one read of its
    lstat size, plus one byte to see it grew; read on to its end only then (a file object's buffered read of the
    cap's size allocated a megabyte for every file)."""
    parts: list[bytes] = []
    total, want = 0, expected + 1
    while total <= cap:
        chunk = os.read(fd, min(want, cap + 1 - total))
        if not chunk:
            break
        parts.append(chunk)
        total += len(chunk)
        want = 1 << 16
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _has_generated_marker(head: bytes) -> bool:
    """A line of `head` carries a generated-code marker. Only the lines holding the word are matched: the pattern
    tried at every line start of every file was a tenth of a large Python tree's walk."""
    at = head.find(b"generated")
    while at >= 0:
        start = head.rfind(b"\n", 0, at) + 1
        end = head.find(b"\n", at)
        if _GENERATED_MARKER.match(head, start, len(head) if end < 0 else end):
            return True
        at = head.find(b"generated", at + 1)
    return False


def classify_content(rel: str, data: bytes, config: IngestConfig, lines: int, is_code: bool) -> str | None:
    """The skip reason for a file's bytes (`lines` of them; `is_code`: its name is of a language), or None to keep
    it."""
    head = data[:_SNIFF_BYTES]
    if b"\0" in head:
        return "binary"
    if _GENERATED_NAME.match(os.path.basename(rel)):
        return "generated"
    if is_code and len(data) > 2048 and len(data) / max(lines, 1) > config.minified_avg_line:
        return "minified"
    if _has_generated_marker(head):
        return "generated"
    return None


def walk_tree(root: Path, config: IngestConfig, progress: Progress,
              on_file: Callable[[FileRecord], None] | None = None) -> WalkResult:
    """Every indexable file under root, and the docs of its READMEs and Python modules (from the bytes read for the
    hash); `on_file` sees each kept file as it is found.

    Nothing outside root is read: each folder is opened relative to its parent's open folder without following a
    symlink (os.fwalk checks it is the folder it listed), and each file by its name relative to that folder, after
    lstat, with no symlink followed. Short relative names also spare the kernel a long path walk per file.
    """
    result = WalkResult()
    root_real = os.path.realpath(root)
    rules = _IgnoreRules()
    skip_dirs = set(config.skip_dirs)
    max_bytes = config.max_file_kb * 1024
    seen = 0
    for dirpath, dirnames, filenames, folder_fd in os.fwalk(root_real, follow_symlinks=False):
        rel_dir = dirpath[len(root_real) + 1:].replace(os.sep, "/") if dirpath != root_real else ""
        rules.load(folder_fd, rel_dir)
        # Bounded depth: a hostile tree of thousands of nested folders must not exhaust the walk's recursion.
        depth = rel_dir.count("/") + 1 if rel_dir else 0
        too_deep = depth + 1 > config.max_depth
        kept_dirs = []
        for name in sorted(dirnames):
            rel = f"{rel_dir}/{name}" if rel_dir else name
            unsafe = unsafe_name_reason(name)
            if unsafe:
                result.skipped[f"{unsafe}_dir"] += 1
            elif too_deep:
                result.skipped["too_deep_dir"] += 1
            elif _is_symlink(name, folder_fd):
                result.skipped["symlink"] += 1
            elif name in skip_dirs:
                result.skipped["vendored_dir" if name != ".git" else "vcs_dir"] += 1
            elif rules.ignored(rel, is_dir=True):
                result.skipped["gitignored_dir"] += 1
            else:
                kept_dirs.append(name)
        dirnames[:] = kept_dirs
        for name in sorted(filenames):
            seen += 1
            if seen % 500 == 0:
                progress.report(0.2 + min(seen / 50_000, 1.0) * 0.05, f"walking: {seen} files seen")
            rel = f"{rel_dir}/{name}" if rel_dir else name
            record, reason, data = _read_file(folder_fd, name, rel, rules, max_bytes, config)
            if record is None:
                result.skipped[reason] += 1
                continue
            if reason:
                result.warnings[reason] += 1
            result.files.append(record)
            doc = doc_of(record, data, config.doc_max_chars)
            if doc is not None:
                result.docs.append(doc)
            if on_file is not None:
                on_file(record)
    return result


def _is_symlink(name: str, folder_fd: int) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(name, dir_fd=folder_fd).st_mode)
    except OSError:
        return True  # gone or unreadable: not walked into either way


def _read_file(folder_fd: int, name: str, rel: str, rules: _IgnoreRules, max_bytes: int,
               config: IngestConfig) -> tuple[FileRecord | None, str | None, bytes]:
    """(record, warning, its bytes) for a kept file, or (None, skip reason, b''); `name` is relative to the open
    folder `folder_fd`."""
    unsafe = unsafe_name_reason(name)
    if unsafe:
        return None, unsafe, b""
    if rules.ignored(rel, is_dir=False):
        return None, "gitignored", b""
    try:
        info = os.lstat(name, dir_fd=folder_fd)
    except OSError:
        return None, "unreadable", b""
    if stat.S_ISLNK(info.st_mode):
        return None, "symlink", b""
    if not stat.S_ISREG(info.st_mode):
        return None, "special", b""
    if info.st_size > max_bytes:
        return None, "oversized", b""
    try:
        fd = os.open(name, READ_NO_FOLLOW, dir_fd=folder_fd)  # a file swapped for a symlink after lstat is not followed
        try:
            data = read_capped(fd, info.st_size, max_bytes)
        finally:
            os.close(fd)
    except OSError:
        return None, "unreadable", b""
    if len(data) > max_bytes:
        return None, "oversized", b""
    lines = count_lines(data)
    spec = language_for(rel)
    reason = classify_content(rel, data, config, lines, is_code=spec is not None)
    if reason:
        return None, reason, b""

    warning = None if data.isascii() or _is_utf8(data) else "non_utf8"  # kept, decoded leniently later, counted
    record = FileRecord(rel, file_category(rel), spec.name if spec else "", len(data), lines,
                        hashlib.sha1(data).hexdigest())
    return record, warning, data
