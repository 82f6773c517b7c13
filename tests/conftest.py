"""Shared fixtures: a temp workspace, the polyglot fixture tree and real git repositories."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from forklift_core.workspace import Workspace

FIXTURES = Path(__file__).parent / "fixtures"
POLYGLOT = FIXTURES / "polyglot"


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """An empty workspace of this test's own."""
    return Workspace(tmp_path / "ws")


def git(cwd: Path, *args: str) -> str:
    """Run real git with a fixed identity and no user config."""
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def polyglot_repo(tmp_path: Path) -> Path:
    """A git repository holding a copy of the polyglot fixture, with one commit."""
    repo = tmp_path / "polyglot"
    shutil.copytree(POLYGLOT, repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    return repo
