"""Where each stage's files live: `<workspace>/<project>/...` and a shared model cache."""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from forklift_core.config import default_workspace
from forklift_core.errors import BadInputError, NotFoundError

_PROJECT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MODELS_DIR = ".models"  # not a valid project name (leading dot), so it never collides with one


def check_project_name(name: str) -> str:
    """A project name is a short slug, so it is always one safe directory name."""
    if not _PROJECT_NAME.fullmatch(name or "") or ".." in name:
        raise BadInputError(
            f"project name {name!r} is not allowed: use letters, digits, '.', '_' or '-' (at most 64)"
        )
    return name


def timestamped_id() -> str:
    """A folder name that sorts by creation time and never collides: `YYYYmmdd-HHMMSS-xxxxxx` (runs, pushes)."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]


@contextmanager
def atomic_path(path: Path, suffix: str = "") -> Iterator[Path]:
    """A temporary file of its own beside `path`, renamed onto it when the block ends and removed if it fails:
    a crash, or another writer of the same file at the same time, never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON through a temp file and rename, so a crash never leaves half a file."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8")


@dataclass(frozen=True)
class ProjectPaths:
    """The files of one project."""

    root: Path

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"

    @property
    def index_dir(self) -> Path:
        return self.root / "index"

    def table(self, name: str) -> Path:
        """One index table (files, symbols, references, build_facts)."""
        return self.index_dir / f"{name}.parquet"

    @property
    def curation_db(self) -> Path:
        return self.root / "curation.sqlite"

    @property
    def dataset_dir(self) -> Path:
        return self.root / "dataset"

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    @property
    def scratch_dir(self) -> Path:
        """Temporary clones and extracted archives; removed after each ingest."""
        return self.root / ".scratch"

    def exists(self) -> bool:
        return self.manifest.is_file()

    def read_manifest(self) -> dict[str, Any]:
        """The project's manifest; NotFoundError when it was never ingested."""
        if not self.manifest.is_file():
            raise NotFoundError(f"project {self.name!r} has no index yet: run `forklift ingest` first")
        return json.loads(self.manifest.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Workspace:
    """The root folder holding every project and the model cache."""

    root: Path

    @classmethod
    def default(cls, override: str | os.PathLike[str] | None = None) -> "Workspace":
        """The workspace named by the argument, FORKLIFT_WORKSPACE, or ./workspace."""
        return cls(Path(override).expanduser() if override else default_workspace())

    def project(self, name: str) -> ProjectPaths:
        """Paths of one project (not created until a stage writes)."""
        return ProjectPaths(self.root / check_project_name(name))

    def projects(self) -> list[str]:
        """Names of projects that have been ingested."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "manifest.json").is_file())

    @property
    def models_dir(self) -> Path:
        """Cache of converted models (e.g. the embedded SmolLM2 as safetensors): the workspace's own, or the folder
        FORKLIFT_MODELS names, which any number of workspaces share (each conversion is then done once)."""
        shared = os.environ.get("FORKLIFT_MODELS")
        return Path(shared).expanduser() if shared else self.root / MODELS_DIR
