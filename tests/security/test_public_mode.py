"""Public mode: visitors look, signed-in users change only the projects they made."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from forklift_core.access import require_write_access
from forklift_core.errors import AccessDeniedError
from forklift_core.ingest.index import ingest
from forklift_core.ui.common import AppSettings, writer
from tests.conftest import POLYGLOT


def test_anonymous_visitors_cannot_write(workspace) -> None:
    with pytest.raises(AccessDeniedError, match="sign in with Hugging Face"):
        require_write_access(workspace, "new-project", None, "ingest a repository")


def test_a_project_belongs_to_its_maker(workspace) -> None:
    ingest(str(POLYGLOT), "ada-project", workspace, owner="ada")
    ingest(str(POLYGLOT), "server-project", workspace)  # made by the server: shared read-only
    require_write_access(workspace, "ada-project", "ada", "generate pairs")
    require_write_access(workspace, "brand-new", "grace", "ingest a repository")
    with pytest.raises(AccessDeniedError, match="belongs to ada"):
        require_write_access(workspace, "ada-project", "grace", "generate pairs")
    with pytest.raises(AccessDeniedError, match="read-only"):
        require_write_access(workspace, "server-project", "ada", "edit pairs")
    public = AppSettings(workspace, public=True)
    assert writer(public, SimpleNamespace(username="ada"), "ada-project", "train").name == "ada"
    with pytest.raises(AccessDeniedError):
        writer(public, None, "ada-project", "train")
    local = AppSettings(workspace, public=False)
    assert writer(local, None, "server-project", "train").can_edit  # locally the person at the keyboard owns all
