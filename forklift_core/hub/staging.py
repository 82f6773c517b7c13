"""Pushes staged on disk before they go: what will be pushed is shown first, and a failed push is retried as is.

A push is a folder under `<project>/hub/outbox/<id>/`: `files/` holds the exact bytes for the repo and `push.json`
the target, the sha256 of every file and the state. Staging copies; nothing in the project changes. A push that
fails or is killed stays staged, so retrying (after a restart too) sends the same files; the Hub commit is
atomic, so the repo never holds half of one.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from forklift_core.curate.store import now_utc
from forklift_core.errors import BadInputError, NotFoundError
from forklift_core.models import sha256_file
from forklift_core.workspace import ProjectPaths, timestamped_id, write_json_atomic

STAGED, PUSHED = "staged", "pushed"
REPO_TYPES = {"dataset": "dataset", "adapter": "model", "run-bundle": "dataset", "space": "space",
              "training-space": "space"}


def outbox_dir(paths: ProjectPaths) -> Path:
    """Where a project's staged pushes wait."""
    return paths.root / "hub" / "outbox"


def check_repo_id(repo_id: str) -> str:
    """`namespace/name` with the Hub's characters, or a clear refusal."""
    if not re.fullmatch(r"[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}", repo_id or "") or ".." in repo_id:
        raise BadInputError(f"repository id must look like namespace/name, not {repo_id!r}")
    return repo_id


@dataclass
class StagedPush:
    """One push waiting in the outbox (or done): where it goes and the files it carries."""

    id: str
    kind: str  # "dataset", "adapter", "run-bundle" (what a remote job trains from), "training-space" or "space"
    project: str
    repo_id: str
    private: bool
    files: dict[str, str]  # path in the repo -> sha256
    sizes: dict[str, int]
    created_at: str
    run_id: str = ""
    status: str = STAGED
    parent_commit: str = ""  # the repo's head when it was previewed: the push refuses to overwrite later changes
    commit_oid: str = ""
    commit_url: str = ""
    attempts: list[dict[str, str]] = field(default_factory=list)
    folder: Path = field(default=Path(), repr=False, compare=False)

    @property
    def repo_type(self) -> str:
        return REPO_TYPES[self.kind]

    @property
    def files_dir(self) -> Path:
        return self.folder / "files"

    def save(self) -> None:
        data = {k: v for k, v in asdict(self).items() if k != "folder"}
        write_json_atomic(self.folder / "push.json", data)

    def verify(self) -> None:
        """Refuse to push files that changed since they were staged (and shown)."""
        for path, digest in self.files.items():
            local = self.files_dir / path
            if not local.is_file() or sha256_file(local) != digest:
                raise BadInputError(f"staged file {path} changed since push {self.id} was staged; stage it again")

    def summary(self) -> str:
        """One line: what goes where."""
        total = sum(self.sizes.values())
        return (f"{self.kind} of {self.project}{f' run {self.run_id}' if self.run_id else ''} → "
                f"{'private' if self.private else 'PUBLIC'} {self.repo_type} repo {self.repo_id}: "
                f"{len(self.files)} files, {total / 1e6:.2f} MB [{self.status}]")


def new_push(paths: ProjectPaths, kind: str, repo_id: str, private: bool, run_id: str = "") -> StagedPush:
    """An empty staged push folder (files are added by the caller, then `seal`)."""
    push_id = timestamped_id()
    folder = outbox_dir(paths) / push_id
    (folder / "files").mkdir(parents=True)
    return StagedPush(push_id, kind, paths.name, check_repo_id(repo_id), private, {}, {},
                      now_utc(), run_id, folder=folder)


def seal(staged: StagedPush) -> StagedPush:
    """Record every staged file's hash and size; the push is then ready (and shown before it goes)."""
    for local in sorted(p for p in staged.files_dir.rglob("*") if p.is_file()):
        relative = local.relative_to(staged.files_dir).as_posix()
        staged.files[relative] = sha256_file(local)
        staged.sizes[relative] = local.stat().st_size
    staged.save()
    return staged


def load_push(paths: ProjectPaths, push_id: str) -> StagedPush:
    """A staged push by id."""
    folder = outbox_dir(paths) / push_id
    if not (folder / "push.json").is_file():
        raise NotFoundError(f"no staged push {push_id!r} in project {paths.name!r}")
    return StagedPush(**json.loads((folder / "push.json").read_text(encoding="utf-8")), folder=folder)


def pushes(paths: ProjectPaths, status: str | None = None) -> list[StagedPush]:
    """The project's pushes, oldest first (only those with `status` when given)."""
    root = outbox_dir(paths)
    found = [load_push(paths, p.name) for p in sorted(root.iterdir())
             if (p / "push.json").is_file()] if root.is_dir() else []
    return [p for p in found if status is None or p.status == status]


def discard(staged: StagedPush) -> None:
    """Remove a staged push that was never sent (a pushed one stays as the record of what went)."""
    if staged.status != STAGED:
        raise BadInputError(f"push {staged.id} was already sent; it stays as the record")
    shutil.rmtree(staged.folder)
