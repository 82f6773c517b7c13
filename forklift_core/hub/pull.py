"""Pull a dataset repo into a new project to go on curating, or an adapter repo into a project's runs to compare.

Everything downloaded is a stranger's input: only the files ForkLift knows are taken, by name; a plan's base model
must be a Hub id (a local path in it could point anywhere on this machine).
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import yaml

from forklift_core.curate.store import CurationStore
from forklift_core.errors import BadInputError, NotFoundError
from forklift_core.hub.client import Hub, hub_errors
from forklift_core.hub.publish import CURATION_DIR
from forklift_core.hub.staging import check_repo_id
from forklift_core.models import resolve_lm
from forklift_core.progress import Progress
from forklift_core.workspace import Workspace, write_json_atomic

_ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*")


def _download(hub: Hub, repo_id: str, repo_type: str, revision: str, into: Path,
              patterns: list[str]) -> tuple[Path, str]:
    """The repo's files matching `patterns` at `revision`, and the commit they came from."""
    from huggingface_hub import snapshot_download

    check_repo_id(repo_id)
    api = hub.api()
    with hub_errors(hub, "read the repository", repo_id):
        sha = api.repo_info(repo_id, repo_type=repo_type, revision=revision, token=hub.token.value).sha
        folder = snapshot_download(repo_id, repo_type=repo_type, revision=sha, local_dir=str(into),
                                   allow_patterns=patterns, endpoint=hub.endpoint, token=hub.token.value)
    return Path(folder), sha


def pull_dataset(hub: Hub, workspace: Workspace, project: str, repo_id: str, revision: str = "main",
                 progress: Progress | None = None, owner: str | None = None) -> dict[str, Any]:
    """A pushed ForkLift dataset as a new project's curation store (pairs, review state, facts).

    `owner` is recorded on a public Space, where only the person who made a project may change it.
    """
    progress = progress or Progress()
    paths = workspace.project(project)
    if paths.curation_db.is_file() and CurationStore(paths.curation_db).pairs():
        raise BadInputError(f"project {project!r} already has pairs; pull into a new project")
    scratch = workspace.root / ".pulls" / uuid.uuid4().hex
    try:
        progress.report(0.1, f"downloading {repo_id}")
        folder, sha = _download(hub, repo_id, "dataset", revision, scratch, [f"{CURATION_DIR}/*", "README.md"])
        curation = folder / CURATION_DIR
        if not (curation / "pairs.jsonl").is_file():
            raise BadInputError(f"{repo_id} is not a ForkLift dataset (no {CURATION_DIR}/pairs.jsonl)")
        pairs = _read_jsonl(curation / "pairs.jsonl")
        facts = _read_jsonl(curation / "facts.jsonl") if (curation / "facts.jsonl").is_file() else []
        meta = json.loads((curation / "meta.json").read_text()) if (curation / "meta.json").is_file() else {}
        progress.report(0.7, f"restoring {len(pairs)} pairs")
        try:
            count = CurationStore(paths.curation_db).restore(facts, pairs, {**meta, "hub": {"repo": repo_id,
                                                                                              "commit": sha}})
        except (KeyError, TypeError, sqlite3.IntegrityError) as exc:  # a stranger's repo, not ForkLift's format
            raise BadInputError(f"{repo_id} does not hold a valid ForkLift dataset ({type(exc).__name__}: {exc}); "
                                "nothing was imported") from None
        if not paths.manifest.is_file():  # a project is listed once it has a manifest; this one has no index
            write_json_atomic(paths.manifest, {"project": project, "source": {"origin": f"hub:{repo_id}"},
                                               "commit": sha, "pulled_from": repo_id,
                                               **({"owner": owner} if owner else {})})
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    progress.report(1.0, f"pulled {count} pairs from {repo_id} at {sha[:10]}")
    return {"project": project, "pairs": count, "facts": len(facts), "commit": sha}


def pull_adapter(hub: Hub, workspace: Workspace, project: str, repo_id: str, revision: str = "main",
                 progress: Progress | None = None) -> str:
    """A pushed adapter as a completed run of the project (to compare with its base); returns the run id."""
    progress = progress or Progress()
    paths = workspace.project(project)
    if not paths.exists():
        raise NotFoundError(f"no project {project!r}: ingest the repository the adapter was trained on first "
                            "(answers are checked against its index)")
    scratch = paths.root / ".pulls" / uuid.uuid4().hex
    try:
        progress.report(0.1, f"downloading {repo_id}")
        folder, sha = _download(hub, repo_id, "model", revision, scratch,
                                [*_ADAPTER_FILES, "plan.yaml", "manifest.json", "eval/*", "README.md"])
        if not all((folder / name).is_file() for name in _ADAPTER_FILES):
            raise BadInputError(f"{repo_id} holds no PEFT adapter ({' and '.join(_ADAPTER_FILES)})")
        plan = _plan(folder, workspace.models_dir)
        run_id = f"hub-{repo_id.split('/')[1]}-{sha[:7]}"
        run_dir = paths.runs_dir / run_id
        if run_dir.is_dir():
            return run_id  # this revision was pulled already
        staging = paths.runs_dir / f".{run_id}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        (staging / "adapter").mkdir(parents=True)
        for name in _ADAPTER_FILES:
            shutil.copy2(folder / name, staging / "adapter" / name)
        (staging / "plan.yaml").write_text(yaml.safe_dump(plan, sort_keys=False))
        if (folder / "eval" / "report.json").is_file():
            shutil.copytree(folder / "eval", staging / "eval")
        remote = json.loads((folder / "manifest.json").read_text()) if (folder / "manifest.json").is_file() else {}
        write_json_atomic(staging / "manifest.json", {**remote, "status": "completed", "run_id": run_id,
                                                      "pulled_from": {"repo": repo_id, "commit": sha}})
        staging.rename(run_dir)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    progress.report(1.0, f"pulled {repo_id} at {sha[:10]} as run {run_id}")
    return run_id


def _plan(folder: Path, models_dir: Path) -> dict[str, Any]:
    """The pulled plan with its base model resolved here; the base must be a Hub id or the embedded default."""
    if (folder / "plan.yaml").is_file():
        plan = yaml.safe_load((folder / "plan.yaml").read_text()) or {}
    else:  # a PEFT adapter from elsewhere: its config names the base
        plan = {"base_model": json.loads((folder / "adapter_config.json").read_text()).get("base_model_name_or_path")}
    base = str(plan.get("base_model") or "")
    if not _HUB_ID.fullmatch(base):
        raise BadInputError(f"the adapter's base model must be a Hub id (namespace/name), not {base!r}")
    plan["base_model_path"] = resolve_lm(base, models_dir).location
    return plan


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    try:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadInputError(f"{path.name} in the repo is not JSON lines ({exc}); nothing was imported") from None
    if not all(isinstance(row, dict) for row in rows):
        raise BadInputError(f"{path.name} in the repo holds something other than records; nothing was imported")
    return rows
