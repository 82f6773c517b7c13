"""Stage, preview and push a project's dataset or a run's adapter to the Hub."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Sequence

import yaml

from forklift_core.curate.export import DEFAULT_STATUSES, EXPORT_MARKER, export_dataset
from forklift_core.curate.store import CurationStore, now_utc
from forklift_core.errors import BadInputError, NotFoundError
from forklift_core.generate.secrets import detect
from forklift_core.hub.cards import model_card
from forklift_core.hub.client import Hub, hub_errors
from forklift_core.hub.staging import PUSHED, StagedPush, new_push, seal
from forklift_core.progress import Progress
from forklift_core.workspace import ProjectPaths

CURATION_DIR = "forklift"  # pairs with their review state and facts: what a pull needs to go on curating
# Written by the local machine for itself: a pushed manifest or plan must not tell the world where files live.
_LOCAL_KEYS = ("pid", "base_model_path", "dataset", "checkpoint")


def require_reviewed_secrets(paths: ProjectPaths) -> None:
    """Refuse to publish while a secret-scan finding has not been looked at by a person."""
    if not paths.curation_db.is_file():
        return
    open_hits = CurationStore(paths.curation_db).unreviewed_secret_hits()
    if open_hits:
        where = ", ".join(f"{h['path']}:{h['line']} ({h['kind']})" for h in open_hits[:5])
        more = f" and {len(open_hits) - 5} more" if len(open_hits) > 5 else ""
        raise BadInputError(f"{len(open_hits)} secret-scan finding(s) are not reviewed: {where}{more}. Their values "
                            "are redacted; look at them and mark them reviewed (`forklift secrets --project "
                            f"{paths.name} --reviewed`, or the Hub tab) before pushing")


def _write_jsonl(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")


def _edited_text_secrets(pairs: Sequence[dict[str, Any]]) -> list[str]:
    """Secrets in text a person wrote: generated text was scanned and redacted when it was made, edits were not."""
    found = []
    for pair in pairs:
        if pair["version"] > 1:
            for column in ("question", "answer", "rejected", "comment"):
                for kind, _, _ in detect(pair[column] or ""):
                    found.append(f"pair {pair['id']} ({column}): {kind}")
    return found


def stage_dataset(paths: ProjectPaths, repo_id: str, private: bool = True,
                  statuses: Sequence[str] = DEFAULT_STATUSES) -> StagedPush:
    """The curated pairs as Parquet in TRL's formats with their card, plus the review state for a later pull."""
    require_reviewed_secrets(paths)
    staged = new_push(paths, "dataset", repo_id, private)
    try:
        export_dataset(paths, staged.files_dir, "parquet", statuses)
        (staged.files_dir / EXPORT_MARKER).unlink()
        store = CurationStore(paths.curation_db)
        pairs = [p for p in store.pairs() if p["status"] in statuses]
        leaks = _edited_text_secrets(pairs)
        if leaks:
            raise BadInputError("edited pairs contain what looks like a secret: " + "; ".join(leaks[:5])
                                + ". Edit them in the Curate tab, then push again")
        _write_jsonl(staged.files_dir / CURATION_DIR / "pairs.jsonl", pairs)
        _write_jsonl(staged.files_dir / CURATION_DIR / "facts.jsonl", store.facts({p["fact_id"] for p in pairs}))
        (staged.files_dir / CURATION_DIR / "meta.json").write_text(json.dumps(store.meta(), indent=1, default=str))
    except BaseException:
        shutil.rmtree(staged.folder, ignore_errors=True)  # a half-staged push would be offered for retry
        raise
    return seal(staged)


def _public(data: Any) -> Any:
    """The data without the keys that say where things live on this machine (at any depth)."""
    if isinstance(data, dict):
        return {k: _public(v) for k, v in data.items() if k not in _LOCAL_KEYS}
    if isinstance(data, list):
        return [_public(v) for v in data]
    return data


def stage_adapter(paths: ProjectPaths, run_id: str, repo_id: str, private: bool = True,
                  dataset_repo: str = "") -> StagedPush:
    """A completed run's PEFT adapter at the repo root, its plan and manifest, the evaluation and a model card."""
    require_reviewed_secrets(paths)
    run_dir = paths.runs_dir / run_id
    adapter = run_dir / "adapter"
    if not (adapter / "adapter_config.json").is_file():
        raise NotFoundError(f"run {run_id!r} of {paths.name!r} has no adapter (it has not completed)")
    staged = new_push(paths, "adapter", repo_id, private, run_id)
    try:
        for item in adapter.iterdir():  # the PEFT layout at the root: AutoPeftModel loads the repo id directly
            if item.is_file():
                shutil.copy2(item, staged.files_dir / item.name)
        plan = yaml.safe_load((run_dir / "plan.yaml").read_text())
        manifest = json.loads((run_dir / "manifest.json").read_text())
        (staged.files_dir / "plan.yaml").write_text(yaml.safe_dump(_public(plan), sort_keys=False))
        (staged.files_dir / "manifest.json").write_text(json.dumps(_public(manifest), indent=1, default=str))
        report = None
        if (run_dir / "eval" / "report.json").is_file():
            (staged.files_dir / "eval").mkdir()
            for name in ("report.json", "report.md"):
                if (run_dir / "eval" / name).is_file():
                    shutil.copy2(run_dir / "eval" / name, staged.files_dir / "eval" / name)
            report = json.loads((run_dir / "eval" / "report.json").read_text())
        source = {}
        if paths.curation_db.is_file():
            meta = CurationStore(paths.curation_db).meta()
            source = {"origin": (meta.get("source") or {}).get("origin", ""), "commit": meta.get("commit") or ""}
        (staged.files_dir / "README.md").write_text(
            model_card(paths.name, run_id, plan, manifest, report, dataset_repo, source), encoding="utf-8")
    except BaseException:
        shutil.rmtree(staged.folder, ignore_errors=True)
        raise
    return seal(staged)


def preview(hub: Hub, staged: StagedPush) -> dict[str, Any]:
    """What the push will do, read from the Hub: create or update, visibility, which files are new or changed.

    The repo's head is recorded as the push's parent: if anyone commits after this, the push is refused instead
    of overwriting their work.
    """
    from huggingface_hub.hf_api import RepoFile

    api = hub.api()
    remote: dict[str, str] = {}
    with hub_errors(hub, "look at the repository", staged.repo_id):
        info = _repo_info(api, staged, hub.token.value)
        if info is not None:
            remote = {f.path: (f.lfs.sha256 if f.lfs else f.blob_id)
                      for f in api.list_repo_tree(staged.repo_id, repo_type=staged.repo_type, recursive=True,
                                                  revision=info.sha, token=hub.token.value) if isinstance(f, RepoFile)}
    changes = {path: "new" if path not in remote else
               "unchanged" if remote[path] in _local_ids(staged, path) else "changed" for path in staged.files}
    staged.parent_commit = info.sha if info is not None else ""
    staged.save()
    problems = []
    if info is not None and not info.private and staged.private:
        problems.append(f"{staged.repo_id} exists and is PUBLIC; push with --public to publish to it, "
                        "or choose another repository")
    return {"push": staged.id, "summary": staged.summary(), "repo_exists": info is not None,
            "repo_private": info.private if info is not None else staged.private, "head": staged.parent_commit,
            "files": {p: {"size": staged.sizes[p], "change": changes[p]} for p in staged.files}, "problems": problems}


def _local_ids(staged: StagedPush, path: str) -> tuple[str, str]:
    """The ids the Hub may show for a staged file: sha256 when it keeps it in LFS, the git blob id otherwise."""
    from huggingface_hub.utils.sha import git_hash

    return staged.files[path], git_hash((staged.files_dir / path).read_bytes())


def push(hub: Hub, paths: ProjectPaths, staged: StagedPush, progress: Progress | None = None) -> StagedPush:
    """Send a staged push as one commit (creating the repo, private unless asked); retrying finishes a failed one."""
    from huggingface_hub import CommitOperationAdd

    progress = progress or Progress()
    if staged.status == PUSHED:
        return staged
    require_reviewed_secrets(paths)
    staged.verify()
    api = hub.api()
    token = hub.token.value
    staged.attempts.append({"at": now_utc(), "result": "started"})
    staged.save()
    try:
        progress.report(0.05, f"creating or finding {staged.repo_id}")
        with hub_errors(hub, "create the repository", staged.repo_id):
            info = _repo_info(api, staged, token)
            if info is None:
                api.create_repo(staged.repo_id, repo_type=staged.repo_type, private=staged.private, exist_ok=True,
                                token=token, space_sdk="gradio" if staged.repo_type == "space" else None)
                info = _repo_info(api, staged, token)
        if not info.private and staged.private:
            raise BadInputError(f"{staged.repo_id} is PUBLIC on the Hub; push with --public to publish to it")
        progress.report(0.2, f"uploading {len(staged.files)} files")
        operations = [CommitOperationAdd(path_in_repo=path, path_or_fileobj=str(staged.files_dir / path))
                      for path in sorted(staged.files)]
        with hub_errors(hub, "push", staged.repo_id):
            commit = api.create_commit(staged.repo_id, operations, repo_type=staged.repo_type, token=token,
                                       commit_message=f"ForkLift: {staged.kind} of {staged.project}"
                                                      + (f" (run {staged.run_id})" if staged.run_id else ""),
                                       commit_description=f"Staged push {staged.id}.",
                                       parent_commit=staged.parent_commit or info.sha)
    except BaseException as exc:
        staged.attempts[-1]["result"] = f"failed: {str(exc)[:300]}"
        staged.save()
        raise
    staged.status, staged.commit_oid, staged.commit_url = PUSHED, commit.oid, commit.commit_url
    staged.attempts[-1]["result"] = "pushed"
    staged.save()
    progress.report(1.0, f"pushed {staged.repo_id} at {commit.oid[:10]}")
    return staged


def _repo_info(api: Any, staged: StagedPush, token: str) -> Any:
    """The repo's info, or None when it does not exist (yet)."""
    from huggingface_hub.errors import RepositoryNotFoundError

    try:
        return api.repo_info(staged.repo_id, repo_type=staged.repo_type, token=token)
    except RepositoryNotFoundError:
        return None
