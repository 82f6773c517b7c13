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


@pytest.mark.parametrize("stage", ["ctags", "C references (lexical)", "C references (cscope)"])
def test_an_ingest_cancelled_while_its_workers_run_leaves_nothing(workspace, monkeypatch, stage: str) -> None:
    import forklift_core.ingest.extraction as extraction
    from forklift_core.config import IngestConfig
    from forklift_core.ingest.cscope import cscope_available

    if "cscope" in stage and not cscope_available():
        pytest.skip("cscope is not installed")
    monkeypatch.setattr(extraction, "INLINE_BYTES", 0)  # the worker pool, as a big tree gets
    progress = Progress()

    def report(fraction: float, message: str) -> None:
        if message.startswith(stage):  # C references: their uses are being resolved beside the workers
            progress.cancel()

    progress.report_fn = report
    source = "cscope" if "cscope" in stage else "lexical"
    with pytest.raises(CancelledError):
        ingest(str(POLYGLOT), "p", workspace, IngestConfig(shards=2, extractor="ctags", c_references=source), progress)
    paths = workspace.project("p")
    assert not paths.index_dir.exists() and not paths.scratch_dir.exists()
    staging_left = list(paths.root.glob(".index-*")) if paths.root.exists() else []
    assert not staging_left


def test_cancelled_generate_keeps_the_previous_pairs(workspace) -> None:
    ingest(str(POLYGLOT), "p", workspace)
    first = generate("p", workspace)
    with pytest.raises(CancelledError):
        generate("p", workspace, progress=_cancel_after(3))
    from forklift_core.curate.store import CurationStore

    assert len(CurationStore(workspace.project("p").curation_db).pairs(kind="sft")) == first["sft_pairs"]
