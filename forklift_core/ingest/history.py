"""Git history of a local checkout: when each file last changed, and why (the commit subject).

Only for a local path (the user's own checkout) or a clone ForkLift made; never for an uploaded tree. git runs
with a fixed argument list, no pager, no hooks or fsmonitor, and a bound on how many commits are read.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Iterable

from forklift_core.ingest.gitclone import git_env
from forklift_core.records import FileChange

_RECORD = "\x1e"
_FIELD = "\x1f"


def history_argv(max_commits: int) -> list[str]:
    """git log over at most max_commits, newest first, with the files each one touched."""
    return ["git", "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null", "--no-pager", "log",
            f"--max-count={max_commits}", "--no-renames", "--name-only", "--no-color",
            f"--format={_RECORD}%H{_FIELD}%aI{_FIELD}%an{_FIELD}%s"]


def parse_history(output: str, wanted: set[str], per_file: int = 3) -> list[FileChange]:
    """The newest `per_file` commits of each wanted file, newest first."""
    changes: list[FileChange] = []
    counts: dict[str, int] = {}
    for record in output.split(_RECORD)[1:]:
        header, _, names = record.partition("\n")
        sha, date, author, subject = (header.split(_FIELD) + ["", "", "", ""])[:4]
        for name in filter(None, (n.strip() for n in names.splitlines())):
            if name in wanted and counts.get(name, 0) < per_file:
                changes.append(FileChange(name, sha, date, author, subject, counts.get(name, 0)))
                counts[name] = counts.get(name, 0) + 1
    return changes


def file_history(root: Path, paths: Iterable[str], max_commits: int = 2000, timeout_s: int = 60) -> list[FileChange]:
    """Recent commits per file of a git checkout (empty when git or history is unavailable)."""
    if not (root / ".git").is_dir():
        return []
    try:
        out = subprocess.run(history_argv(max_commits), cwd=root, env=git_env(root), capture_output=True,
                             timeout=timeout_s, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return []
    if out.returncode != 0:
        return []
    return parse_history(out.stdout.decode("utf-8", "replace"), set(paths))
