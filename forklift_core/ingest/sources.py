"""Turn what the user gave (path, https git URL or archive) into a local tree to read."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from forklift_core.config import MiB, IngestConfig
from forklift_core.errors import BadInputError
from forklift_core.ingest.archives import ArchiveLimits, extract_archive, is_archive
from forklift_core.ingest.gitclone import clone, looks_like_url, validate_git_url
from forklift_core.progress import Progress

_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


@dataclass
class SourceTree:
    """A local tree ready for the walk, and what it came from."""

    root: Path
    kind: str  # path | git | archive
    origin: str
    commit: str | None
    skipped: Counter[str] = field(default_factory=Counter)
    scratch: Path | None = None  # removed by close()

    def close(self) -> None:
        """Remove the temporary clone or extraction, if any."""
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)


def read_head_commit(root: Path) -> str | None:
    """The commit HEAD points at, read from .git files; git itself never runs inside a given tree."""
    git_dir = root / ".git"
    if not git_dir.is_dir() or git_dir.is_symlink():
        return None
    try:
        head = (git_dir / "HEAD").read_text(encoding="utf-8", errors="replace").strip()
        if _SHA.fullmatch(head):
            return head
        if not head.startswith("ref: "):
            return None
        ref = head[5:].strip()
        if ".." in ref or not ref.startswith("refs/"):
            return None
        loose = git_dir / ref
        if loose.is_file():
            value = loose.read_text(encoding="utf-8", errors="replace").strip()
            return value if _SHA.fullmatch(value) else None
        packed = git_dir / "packed-refs"
        if packed.is_file():
            for line in packed.read_text(encoding="utf-8", errors="replace").splitlines():
                sha, _, name = line.partition(" ")
                if name.strip() == ref and _SHA.fullmatch(sha):
                    return sha
    except OSError:
        return None
    return None


def open_source(spec: str, config: IngestConfig, scratch: Path, progress: Progress,
                uploaded: bool = False) -> SourceTree:
    """Resolve a source spec; a URL is cloned and an archive extracted under scratch.

    `uploaded` marks an archive the visitor sent through the app: where local paths are disabled it is the only
    file on this machine ForkLift will open, and a refused path never says whether it exists.
    """
    spec = (spec or "").strip()
    if not spec:
        raise BadInputError("no source given: pass a path, an https git URL or an archive")
    if looks_like_url(spec):
        target = validate_git_url(spec)
        if scratch.exists():
            shutil.rmtree(scratch)
        scratch.mkdir(parents=True)
        dest = scratch / "repo"
        try:
            clone(target, dest, config.clone_timeout_s, config.clone_max_mb * MiB, progress)
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        return SourceTree(dest, "git", target.url, read_head_commit(dest), scratch=scratch)
    if not (config.allow_local_paths or uploaded):
        raise BadInputError("local paths are disabled here; give an https git URL or upload an archive")
    path = Path(spec).expanduser()
    if not path.exists():
        raise BadInputError(f"source {spec!r} does not exist")
    if path.is_file() and is_archive(path):
        if scratch.exists():
            shutil.rmtree(scratch)
        limits = ArchiveLimits(config.archive_max_mb * MiB, config.archive_max_members, config.archive_max_ratio,
                               config.max_depth)
        progress.report(0.02, f"extracting {path.name}")
        try:
            root, skipped = extract_archive(path, scratch / "tree", limits)
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        # An uploaded tree may carry a .git folder; its commit is read from files, never by running git.
        return SourceTree(root, "archive", path.name, read_head_commit(root), skipped, scratch=scratch)
    if path.is_file() or uploaded:
        raise BadInputError(f"{path.name} is neither a directory nor a .zip/.tar archive")
    root = path.resolve()
    return SourceTree(root, "path", str(root), read_head_commit(root))
