"""Reviews survive a Space restart: every project's edit log synced to a private dataset repo, restored at start.

A Space without persistent storage loses its disk when it restarts; the pairs are regenerated from the index,
but what people did to them lives only in the curation store's edit log. That log is dumped as JSON lines into
a folder that `CommitScheduler` pushes every few minutes (and once more at shutdown), and replayed into the
stores at start. This is the Space's own state, so the Space's token (its HF_TOKEN secret) is the right one here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from forklift_core.curate.review import replay_log
from forklift_core.curate.store import CurationStore
from forklift_core.hub.client import Hub, hub_errors
from forklift_core.workspace import Workspace, atomic_path

LOG_NAME = "edit_log.jsonl"
_COLUMNS = ("id", "pair_id", "user", "at", "before", "after", "base_version")


def dump_edit_logs(workspace: Workspace, folder: Path) -> int:
    """Write each project's edit log to `folder/<project>/edit_log.jsonl`; returns the entries written."""
    written = 0
    for project in workspace.projects():
        database = workspace.project(project).curation_db
        if not database.is_file():
            continue
        with CurationStore(database).read() as db:
            rows = [dict(r) for r in db.execute("SELECT * FROM edit_log ORDER BY id")]
        if not rows:
            continue
        # Two dumps may overlap (the schedule's and one at shutdown): each writes a temporary file of its own, and
        # the scheduler never uploads half a file (its pattern matches only the renamed one).
        with atomic_path(folder / project / LOG_NAME, suffix=".partial") as temporary:
            temporary.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows), encoding="utf-8")
        written += len(rows)
    return written


def restore_edit_logs(workspace: Workspace, folder: Path) -> dict[str, int]:
    """Add the logged edits a project's store lacks and replay them; returns the pairs rebuilt per project."""
    rebuilt = {}
    for log in sorted(folder.glob(f"*/{LOG_NAME}")):
        project = log.parent.name
        if project not in workspace.projects() or not workspace.project(project).curation_db.is_file():
            continue  # regenerate the project first; its edits wait in the repo
        store = CurationStore(workspace.project(project).curation_db)
        entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
        with store.connect() as db:
            known = {row[0] for row in db.execute("SELECT id FROM edit_log")}
            db.executemany(f"INSERT INTO edit_log ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
                           [tuple(e[c] for c in _COLUMNS) for e in entries if e["id"] not in known])
        rebuilt[project] = replay_log(store)
    return rebuilt


def start_edit_log_sync(hub: Hub, workspace: Workspace, repo_id: str, every_minutes: float = 5) -> Any:
    """Restore the edits kept in `repo_id` (a private dataset repo), then push the logs on a schedule."""
    from huggingface_hub import CommitScheduler, HfApi, snapshot_download
    from huggingface_hub.errors import RepositoryNotFoundError

    folder = workspace.root / ".edit-log-sync"
    with hub_errors(hub, "restore the edit logs", repo_id):
        try:
            snapshot_download(repo_id, repo_type="dataset", local_dir=str(folder), endpoint=hub.endpoint,
                              token=hub.token.value, allow_patterns=[f"*/{LOG_NAME}"])
        except RepositoryNotFoundError:
            pass  # the first start: nothing kept yet
    restore_edit_logs(workspace, folder)

    class EditLogScheduler(CommitScheduler):
        """Dumps the logs just before each push, so every push carries the latest edits."""

        def push_to_hub(self) -> Any:
            dump_edit_logs(workspace, folder)
            return super().push_to_hub()

    with hub_errors(hub, "start the edit-log sync", repo_id):
        return EditLogScheduler(repo_id=repo_id, repo_type="dataset", folder_path=folder, every=every_minutes,
                                private=True, allow_patterns=[f"*/{LOG_NAME}"],
                                hf_api=HfApi(endpoint=hub.endpoint, token=hub.token.value))


def start_edit_log_sync_from_env(workspace: Workspace) -> Any:
    """On a Space without persistent storage whose FORKLIFT_SYNC_REPO names a dataset repo: start the sync."""
    repo_id = os.environ.get("FORKLIFT_SYNC_REPO", "")
    if not repo_id or str(workspace.root).startswith("/data"):
        return None  # nothing asked for, or the workspace is on persistent storage already
    from forklift_core.config import HubConfig
    from forklift_core.hub.auth import resolve_token

    # The Space's own token (its HF_TOKEN secret): this is the server keeping its state, not a visitor acting.
    return start_edit_log_sync(Hub(resolve_token(), HubConfig()), workspace, repo_id)
