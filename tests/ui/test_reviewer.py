"""Who may edit: signed-in users as themselves, anonymous visitors read-only on a public Space."""

from types import SimpleNamespace

from forklift_core.ui.common import AppSettings
from forklift_core.ui.common import reviewer
from forklift_core.workspace import Workspace


def test_public_space_anonymous_is_read_only(tmp_path) -> None:
    public = AppSettings(Workspace(tmp_path), public=True)
    assert reviewer(public, None).can_edit is False
    signed_in = reviewer(public, SimpleNamespace(username="ada"))
    assert (signed_in.name, signed_in.can_edit) == ("ada", True)


def test_local_user_edits(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("FORKLIFT_USER", "grace")
    local = reviewer(AppSettings(Workspace(tmp_path), public=False), None)
    assert (local.name, local.can_edit) == ("grace", True)


def test_space_is_public_by_default(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("FORKLIFT_PUBLIC", raising=False)
    monkeypatch.setenv("SPACE_ID", "org/forklift")
    assert AppSettings.from_env(Workspace(tmp_path)).public is True
    monkeypatch.setenv("FORKLIFT_PUBLIC", "0")
    assert AppSettings.from_env(Workspace(tmp_path)).public is False
