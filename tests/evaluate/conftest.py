"""A project with a completed tiny-Llama run, shared by the evaluation tests of one module."""

from __future__ import annotations

from pathlib import Path

import pytest

from forklift_core.workspace import Workspace
from tests.conftest import POLY, copy_project


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, trained_polyglot: Path) -> tuple[Workspace, str, str]:
    """(workspace, project, run id) of a completed run on the polyglot fixture: this module's own copy."""
    workspace = Workspace(tmp_path_factory.mktemp("eval-ws"))
    return workspace, POLY, copy_project(trained_polyglot, workspace)
