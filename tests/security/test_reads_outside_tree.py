"""Critical: nothing outside the ingested tree reaches the index, the store or an export; no command runs."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from forklift_core.config import IngestConfig
from forklift_core.curate.export import export_dataset
from forklift_core.generate.pipeline import generate
from forklift_core.ingest.history import file_history
from forklift_core.ingest.index import ingest
from forklift_core.ingest.tables import IndexReader
from tests.conftest import git
from tests.security.hostile import OUTSIDE_MARKER, everything_under, outside_file, tar_gz


def _symbol_names(workspace, project: str) -> set[str]:
    return {row["name"] for row in IndexReader(workspace.project(project)).symbols(limit=100_000)}


def _assert_no_leak(workspace, project: str) -> None:
    """The outside file is in neither the index nor the store nor an export of every pair."""
    assert OUTSIDE_MARKER not in _symbol_names(workspace, project)
    generate(project, workspace)
    export_dataset(workspace.project(project), fmt="jsonl", statuses=("accepted", "pending"))
    assert OUTSIDE_MARKER.encode() not in everything_under(workspace.root)


def _assert_skipped_and_nothing_leaks(summary: dict, workspace, project: str, skipped_as: str, kept: str) -> None:
    """The hostile name was skipped once under its reason, the ordinary file was indexed, and nothing leaked."""
    assert summary["skipped"][skipped_as] == 1
    assert kept in _symbol_names(workspace, project)
    _assert_no_leak(workspace, project)


def test_newline_in_an_archive_name_cannot_smuggle_a_server_path(tmp_path, workspace) -> None:
    secret = outside_file(tmp_path)
    archive = tar_gz(tmp_path / "evil.tar.gz", [
        ("proj/app.py", b"def visible():\n    return 1\n"),
        (f"proj/x\n{secret}", b"def decoy():\n    pass\n"),
    ])
    _assert_skipped_and_nothing_leaks(ingest(str(archive), "evil", workspace), workspace, "evil",
                                      "archive_unsafe_name", "visible")


def test_newline_in_a_folder_name_of_a_local_tree(tmp_path, workspace) -> None:
    secret = outside_file(tmp_path)
    repo = tmp_path / "repo"
    (repo / "x\n" / str(secret.parent).lstrip("/")).mkdir(parents=True)
    (repo / "x\n" / str(secret).lstrip("/")).write_text("def decoy():\n    pass\n")
    (repo / "ok.py").write_text("def fine():\n    return 2\n")
    _assert_skipped_and_nothing_leaks(ingest(str(repo), "local", workspace), workspace, "local", "unsafe_name_dir",
                                      "fine")


def test_file_names_that_look_like_ctags_options(tmp_path, workspace) -> None:
    secret = outside_file(tmp_path)
    repo = tmp_path / "repo"
    repo.mkdir()
    # If ctags read '--options=opts.py' as an option, this regex would tag every line of every file it reads.
    (repo / "opts.py").write_text("--regex-Python=/^(.*)$/\\1/x/\n")
    (repo / "--options=opts.py").write_text("def options_named_file():\n    pass\n")
    (repo / "-rf.py").write_text("def dash_named_file():\n    pass\n")
    os.symlink(secret, repo / "link.py")
    summary = ingest(str(repo), "opts", workspace)
    names = _symbol_names(workspace, "opts")
    assert {"options_named_file", "dash_named_file"} <= names  # indexed as ordinary files, no abort
    assert not any("regex" in name or "return" in name for name in names)  # the option file was never applied
    assert summary["skipped"]["symlink"] == 1
    _assert_no_leak(workspace, "opts")


_FAKE_SIGNATURE = ("gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEEforkliftfakesignature\n"
                   " -----END PGP SIGNATURE-----\n")


def _signed_repo_with_hostile_config(tmp_path: Path, marker: Path) -> Path:
    """A checkout whose HEAD commit is 'signed' and whose .git/config runs a script to verify signatures."""
    repo = tmp_path / "checkout"
    repo.mkdir()
    (repo / "lib.py").write_text("def library_function():\n    return 3\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "unsigned parent")
    (repo / "lib.py").write_text("def library_function():\n    return 4\n")
    git(repo, "add", "-A")
    tree = git(repo, "write-tree")
    parent = git(repo, "rev-parse", "HEAD")
    body = (f"tree {tree}\nparent {parent}\nauthor A <a@example.com> 1700000000 +0000\n"
            f"committer A <a@example.com> 1700000000 +0000\n{_FAKE_SIGNATURE}\nsigned commit\n")
    sha = subprocess.run(["git", "hash-object", "-t", "commit", "-w", "--stdin"], cwd=repo, input=body,
                         capture_output=True, text=True, check=True).stdout.strip()
    git(repo, "update-ref", "refs/heads/main", sha)
    script = tmp_path / "evil.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\n")
    script.chmod(0o755)
    for key, value in (("log.showSignature", "true"), ("gpg.program", str(script)), ("core.pager", str(script)),
                       ("diff.external", str(script)), ("core.fsmonitor", str(script))):
        git(repo, "config", key, value)
    return repo


def test_a_checkout_config_never_runs_a_command(tmp_path, workspace) -> None:
    marker = tmp_path / "pwned"
    repo = _signed_repo_with_hostile_config(tmp_path, marker)
    # The trap is real: plain git log in that checkout runs the script.
    subprocess.run(["git", "log", "-1"], cwd=repo, capture_output=True, env={**os.environ, "GIT_CONFIG_GLOBAL": os.devnull})
    assert marker.exists()
    marker.unlink()
    history = file_history(repo, ["lib.py"])
    summary = ingest(str(repo), "signed", workspace)
    assert not marker.exists()
    assert [change.subject for change in history] == ["signed commit", "unsigned parent"]
    assert summary["history_commits"] == 2


def test_local_paths_and_server_archives_are_refused_alike_when_disabled(tmp_path, workspace) -> None:
    archive = tar_gz(tmp_path / "server-side.tar.gz", [("p/a.py", b"def a():\n    pass\n")])
    config = IngestConfig(allow_local_paths=False)
    messages = set()
    for spec in (str(archive), str(tmp_path / "missing.tar.gz"), str(tmp_path), "/no/such/dir"):
        try:
            ingest(spec, "srv", workspace, config)
        except Exception as exc:  # noqa: BLE001 - the message itself is what is checked
            messages.add(str(exc))
    # One message for all: it neither reads the server's archive nor says whether a path exists.
    assert messages == {"local paths are disabled here; give an https git URL or upload an archive"}
    assert ingest(str(archive), "srv", workspace, config, uploaded=True)["files"] == 1
