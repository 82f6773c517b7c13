"""A project with a completed tiny-Llama run, shared by the evaluation tests of one module."""

from __future__ import annotations

from pathlib import Path

import pytest

from forklift_core.generate.pipeline import generate
from forklift_core.ingest.index import ingest
from forklift_core.workspace import Workspace
from tests.conftest import POLYGLOT, train_tiny_run


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, tiny_llama_dir: Path) -> tuple[Workspace, str, str]:
    """(workspace, project, run id) of a completed run on the polyglot fixture."""
    workspace = Workspace(tmp_path_factory.mktemp("eval-ws"))
    ingest(str(POLYGLOT), "poly", workspace)
    generate("poly", workspace)
    return workspace, "poly", train_tiny_run(workspace, "poly", tiny_llama_dir)
