"""Git history of a local checkout: when each file last changed, and why (the commit subject).

Only for a local path (the user's own checkout) or a clone ForkLift made; never for an uploaded tree. Even then the
checkout's own `.git/config` is never read: git runs against an empty scratch repository that borrows only the
checkout's object store, so no setting of the checkout (gpg.program with log.showSignature, a pager, diff
drivers, fsmonitor) can run a command. The same keys are also pinned with `-c` as a second wall.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterable

from forklift_core.ingest.gitclone import git_env
from forklift_core.ingest.sources import read_head_commit
from forklift_core.records import FileChange

_RECORD = "\x1e"
_FIELD = "\x1f"


# Every key that can make `git log` run a program, pinned to a harmless value.
_PINNED_SETTINGS = {
    "core.fsmonitor": "false", "core.hooksPath": os.devnull, "core.pager": "cat", "core.sshCommand": "false",
    "core.askPass": "false", "log.showSignature": "false", "gpg.program": "false", "gpg.ssh.program": "false",
    "gpg.x509.program": "false", "diff.external": "", "credential.helper": "", "protocol.allow": "never",
}


def history_argv(max_commits: int, head: str) -> list[str]:
    """git log from `head` over at most max_commits, newest first, with the files each one touched."""
    pinned = [arg for key, value in _PINNED_SETTINGS.items() for arg in ("-c", f"{key}={value}")]
    return ["git", *pinned, "--no-pager", "log", "--no-show-signature", "--no-ext-diff", "--no-textconv",
            f"--max-count={max_commits}", "--no-renames", "--name-only", "--no-color",
            f"--format={_RECORD}%H{_FIELD}%aI{_FIELD}%an{_FIELD}%s", head, "--"]


def isolated_git_dir(checkout_git: Path, scratch: Path) -> dict[str, str]:
    """An empty repository in scratch that reads the checkout's objects; the environment that points git at it."""
    subprocess.run(["git", "init", "--quiet", "--bare", str(scratch)], env=git_env(scratch), check=True,
                   capture_output=True, stdin=subprocess.DEVNULL, timeout=30)
    shallow = checkout_git / "shallow"
    if shallow.is_file() and not shallow.is_symlink():  # a shallow clone's boundary, or log stops with an error
        shutil.copyfile(shallow, scratch / "shallow")
    env = git_env(scratch)
    env.update({"GIT_DIR": str(scratch), "GIT_OBJECT_DIRECTORY": str(checkout_git / "objects"),
                "GIT_NO_REPLACE_OBJECTS": "1"})
    return env


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
    checkout_git = root / ".git"
    head = read_head_commit(root)
    if head is None or checkout_git.is_symlink() or not (checkout_git / "objects").is_dir():
        return []
    with tempfile.TemporaryDirectory(prefix="forklift-history-") as scratch:
        try:
            env = isolated_git_dir(checkout_git, Path(scratch) / "repo.git")
            out = subprocess.run(history_argv(max_commits, head), cwd=scratch, env=env, capture_output=True,
                                 timeout=timeout_s, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.SubprocessError):
            return []
    if out.returncode != 0:
        return []
    return parse_history(out.stdout.decode("utf-8", "replace"), set(paths))
