"""Long work can be cancelled: it stops at the next progress report and leaves nothing half-written."""

from __future__ import annotations

import pytest

from forklift_core.errors import CancelledError
from forklift_core.generate.pipeline import generate
from forklift_core.ingest.index import ingest
from forklift_core.progress import Progress
from tests.conftest import POLYGLOT


def _cancel_after(reports: int) -> Progress:
    progress = Progress()
    seen = []

    def report(fraction: float, message: str) -> None:
        seen.append(message)
        if len(seen) >= reports:
            progress.cancel()

    progress.report_fn = report
    return progress


def test_cancelled_ingest_writes_no_index(workspace, tmp_path) -> None:
    import tarfile

    archive = tmp_path / "repo.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(POLYGLOT, arcname="repo")
    with pytest.raises(CancelledError):
        ingest(str(archive), "p", workspace, progress=_cancel_after(2))
    paths = workspace.project("p")
    assert not paths.exists() and not paths.index_dir.exists() and not paths.scratch_dir.exists()


def test_cancelled_generate_keeps_the_previous_pairs(workspace) -> None:
    ingest(str(POLYGLOT), "p", workspace)
    first = generate("p", workspace)
    with pytest.raises(CancelledError):
        generate("p", workspace, progress=_cancel_after(3))
    from forklift_core.curate.store import CurationStore

    assert len(CurationStore(workspace.project("p").curation_db).pairs(kind="sft")) == first["sft_pairs"]
