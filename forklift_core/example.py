"""The example project a new user sees at once: ForkLift's own source tree, ingested at launch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from forklift_core.config import IngestConfig
from forklift_core.generate.pipeline import generate
from forklift_core.ingest.index import ingest
from forklift_core.workspace import Workspace

EXAMPLE_PROJECT = "forklift-example"


def example_source() -> Path:
    """The folder holding forklift_core (the repository root when run from a checkout)."""
    return Path(__file__).resolve().parent.parent


def ensure_example_project(workspace: Workspace) -> dict[str, Any]:
    """Ingest the example tree, and generate its pairs the first time, so every tab has something to show."""
    summary = ingest(str(example_source()), EXAMPLE_PROJECT, workspace, IngestConfig())
    if not workspace.project(EXAMPLE_PROJECT).curation_db.is_file():
        generate(EXAMPLE_PROJECT, workspace)  # later runs keep the reviewer's store as it is
    return summary
