"""Every bad input gets a clear error or a counted skip; nothing is written outside the workspace."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from forklift_core.config import IngestConfig
from forklift_core.errors import BadInputError
from forklift_core.ingest.gitclone import clone_argv, validate_git_url, GitUrl
from forklift_core.ingest.index import ingest
from forklift_core.ingest.tables import IndexReader


def _files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")} if root.exists() else set()


@pytest.fixture
def sandbox(tmp_path: Path, workspace) -> Path:
    """A folder beside the workspace; tests assert nothing new appears in it."""
    outside = tmp_path / "outside"
    outside.mkdir()
    return outside


def test_nonexistent_path(workspace) -> None:
    with pytest.raises(BadInputError, match="does not exist"):
        ingest("/no/such/repo", "p", workspace)
    assert not workspace.project("p").exists()


@pytest.mark.parametrize("url, message", [
    ("file:///etc", "only https"), ("ssh://git@example.com/r.git", "only https"),
    ("ext::sh -c touch% /tmp/pwned", "only https"), ("http://example.com/r.git", "only https"),
    ("git@github.com:owner/repo.git", "only https"), ("https://user:pw@example.com/r.git", "credentials"),
    ("https://127.0.0.1/r.git", "private or local"), ("https://169.254.169.254/latest", "private or local"),
    ("https://localhost/r.git", "private or local"), ("https://[::1]/r.git", "private or local"),
    ("https://10.0.0.8/r.git", "private or local"),
])
def test_refused_urls(workspace, url: str, message: str) -> None:
    with pytest.raises(BadInputError, match=message):
        ingest(url, "p", workspace)
    assert not Path("/tmp/pwned").exists()
    assert not workspace.project("p").exists()


def test_clone_argv_is_fixed_and_hardened() -> None:
    argv = clone_argv(GitUrl("https://example.com/r.git", "example.com", 443, "93.184.215.14"), Path("/tmp/dest"))
    joined = " ".join(argv)
    for setting in ("core.hooksPath=/dev/null", "core.symlinks=false", "protocol.allow=never",
                    "protocol.https.allow=always", "http.curloptResolve=example.com:443:93.184.215.14",
                    "filter.lfs.smudge=", "--depth=1", "--single-branch", "--no-recurse-submodules"):
        assert setting in joined
    assert argv[-3:] == ["--", "https://example.com/r.git", "/tmp/dest"]  # the URL can never be read as an option


def test_public_host_is_pinned_to_its_checked_address(monkeypatch) -> None:
    import socket

    monkeypatch.setattr(socket, "getaddrinfo", lambda host, port, **kw: [(2, 1, 6, "", ("93.184.215.14", port))])
    target = validate_git_url("https://example.com/owner/repo.git")
    assert (target.host, target.port, target.address) == ("example.com", 443, "93.184.215.14")


def _archive_config() -> IngestConfig:
    return IngestConfig(archive_max_mb=4, archive_max_ratio=50)


def _write_tar(path: Path, members: list[tarfile.TarInfo], payloads: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for info in members:
            data = payloads.get(info.name)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)


def _file_info(name: str, data: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info


@pytest.mark.parametrize("member, message", [("../x.py", "escapes the tree"), ("/abs/x.py", "absolute path")])
def test_tar_with_escaping_member_is_refused(tmp_path, workspace, sandbox, member: str, message: str) -> None:
    archive = tmp_path / "evil.tar.gz"
    _write_tar(archive, [_file_info("ok.py", b"x = 1\n"), _file_info(member, b"y = 2\n")],
               {"ok.py": b"x = 1\n", member: b"y = 2\n"})
    with pytest.raises(BadInputError, match=message):
        ingest(str(archive), "p", workspace)
    assert not (tmp_path / "x.py").exists() and not Path("/abs/x.py").exists()
    assert not workspace.project("p").scratch_dir.exists()  # the partial extraction is removed


def test_zip_with_escaping_member_is_refused(tmp_path, workspace) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../escape.py", "x = 1\n")
    with pytest.raises(BadInputError, match="escapes the tree"):
        ingest(str(archive), "p", workspace)
    assert not (tmp_path / "escape.py").exists()


def test_symlink_and_device_members_are_skipped_and_counted(tmp_path, workspace) -> None:
    link = tarfile.TarInfo("repo/passwd")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    hard = tarfile.TarInfo("repo/hard")
    hard.type, hard.linkname = tarfile.LNKTYPE, "repo/main.py"
    device = tarfile.TarInfo("repo/null")
    device.type = tarfile.CHRTYPE
    code = b"def main():\n    return 1\n"
    archive = tmp_path / "links.tar.gz"
    _write_tar(archive, [_file_info("repo/main.py", code), link, hard, device], {"repo/main.py": code})
    summary = ingest(str(archive), "p", workspace)
    assert summary["skipped"]["archive_link"] == 2
    assert summary["skipped"]["archive_special"] == 1
    assert summary["source"] == {"kind": "archive", "origin": "links.tar.gz"}
    assert [s["name"] for s in IndexReader(workspace.project("p")).symbols()] == ["main"]
    assert not workspace.project("p").scratch_dir.exists()


def test_zip_bomb_is_refused(tmp_path, workspace) -> None:
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.txt", b"\0" * (20 * 1024 * 1024))
    assert archive.stat().st_size < 100_000
    with pytest.raises(BadInputError, match="bomb"):
        ingest(str(archive), "p", workspace, _archive_config())
    assert not workspace.project("p").scratch_dir.exists()


def test_tar_bomb_is_refused(tmp_path, workspace) -> None:
    archive = tmp_path / "bomb.tar.gz"
    payload = b"a" * (8 * 1024 * 1024)
    _write_tar(archive, [_file_info("big.txt", payload)], {"big.txt": payload})
    with pytest.raises(BadInputError, match="bomb|allowed size"):
        ingest(str(archive), "p", workspace, _archive_config())


def test_not_an_archive(tmp_path, workspace) -> None:
    fake = tmp_path / "fake.zip"
    fake.write_bytes(b"this is not a zip")
    with pytest.raises(BadInputError, match="not a readable archive"):
        ingest(str(fake), "p", workspace)


def test_symlinks_out_of_the_tree_are_never_read(tmp_path, workspace) -> None:
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "mod.py").write_text("def inside():\n    return 1\n")
    os.symlink("/etc/passwd", repo / "passwd.py")
    os.symlink("/dev/urandom", repo / "random.py")
    os.symlink("/etc", repo / "etc_dir")
    summary = ingest(str(repo), "p", workspace)
    assert summary["skipped"]["symlink"] == 3
    files = IndexReader(workspace.project("p")).table("files")["path"].to_pylist()
    assert files == ["pkg/mod.py"]


def test_binary_non_utf8_and_huge_single_line_files(tmp_path, workspace) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "blob.py").write_bytes(b"\x00\x01\x02" * 100)
    (repo / "latin.py").write_bytes("def caf\xe9():\n    return 'd\xe9j\xe0'\n".encode("latin-1"))
    (repo / "huge.js").write_bytes(b"var a=1;" * (5 * 1024 * 1024 // 8))
    (repo / "mini.js").write_bytes(b"function f(){return 1};" * 400)
    (repo / "ok.py").write_text("def fine():\n    pass\n")
    summary = ingest(str(repo), "p", workspace)
    assert summary["skipped"] == {"binary": 1, "minified": 1, "oversized": 1}
    assert summary["warnings"] == {"non_utf8": 1}
    names = {s["name"] for s in IndexReader(workspace.project("p")).symbols()}
    assert "fine" in names


def test_empty_repository(tmp_path, workspace) -> None:
    repo = tmp_path / "empty"
    repo.mkdir()
    summary = ingest(str(repo), "p", workspace)
    assert (summary["files"], summary["symbols"], summary["references"]) == (0, 0, 0)
    assert IndexReader(workspace.project("p")).symbols() == []


def test_repo_ctags_options_directory_is_ignored(tmp_path, workspace) -> None:
    from forklift_core.ingest.ctags import ctags_version

    if ctags_version() is None:
        pytest.skip("Universal Ctags is not installed")
    repo = tmp_path / "repo"
    (repo / ".ctags.d").mkdir(parents=True)
    marker = tmp_path / "ctags-wrote-this"
    # Options that would exclude every file and write a tag file outside the tree if ctags read them.
    (repo / ".ctags.d" / "evil.ctags").write_text(f"--exclude=*\n-o {marker}\n--languages=-Python\n")
    (repo / "main.py").write_text("def kept():\n    return 1\n")
    summary = ingest(str(repo), "p", workspace, IngestConfig(extractor="ctags"))
    assert summary["symbols"] == 1
    assert not marker.exists()


def test_gitignore_and_vendored_dirs(tmp_path, workspace) -> None:
    repo = tmp_path / "repo"
    for rel in ("src/app.py", "src/gen/out.py", "node_modules/lib/index.js", "logs/x.py", "src/keep.log.py"):
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text("def f():\n    pass\n")
    (repo / ".gitignore").write_text("logs/\n")
    (repo / "src" / ".gitignore").write_text("gen/\n")
    (repo / "src" / "api_pb2.py").write_text("def generated():\n    pass\n")
    summary = ingest(str(repo), "p", workspace)
    paths = set(IndexReader(workspace.project("p")).table("files")["path"].to_pylist())
    assert {"src/app.py", "src/keep.log.py"} <= paths
    assert not any(p.startswith(("logs/", "src/gen/", "node_modules/")) for p in paths)
    assert summary["skipped"]["gitignored_dir"] == 2
    assert summary["skipped"]["vendored_dir"] == 1
    assert summary["skipped"]["generated"] == 1


def test_generated_markers_only_where_the_ecosystems_put_them(tmp_path, workspace) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "gen.go").write_text("// Code generated by stringer. DO NOT EDIT.\n\npackage p\nfunc F() {}\n")
    (repo / "gen.py").write_text('"""Made by a tool."""\n#\n#   @generated\ndef made():\n    pass\n')
    (repo / "mention.py").write_text("# not generated; see @generatedness\ndef kept():\n    pass\n")
    summary = ingest(str(repo), "p", workspace)
    assert summary["skipped"] == {"generated": 2}
    assert [s["name"] for s in IndexReader(workspace.project("p")).symbols()] == ["kept"]


def test_a_file_read_past_its_lstat_size_is_read_to_its_end_or_one_byte_past_the_cap() -> None:
    from forklift_core.ingest.walk import read_capped

    def pipe_holding(data: bytes) -> int:
        read_end, write_end = os.pipe()
        os.write(write_end, data)
        os.close(write_end)
        return read_end

    for expected, cap, data, wanted in [(10, 1000, b"x" * 300, b"x" * 300), (300, 1000, b"y" * 300, b"y" * 300),
                                        (10, 50, b"z" * 300, b"z" * 51), (0, 50, b"", b"")]:
        fd = pipe_holding(data)
        try:
            assert read_capped(fd, expected, cap) == wanted
        finally:
            os.close(fd)


def test_gitignore_rules_hold_in_their_own_folder_and_below_with_negations(tmp_path, workspace) -> None:
    repo = tmp_path / "repo"
    for folder in ("out", "src/deep", "lib"):
        (repo / folder).mkdir(parents=True)
    (repo / ".gitignore").write_text("*.log\n!keep.log\n/out/\n")
    (repo / "src" / ".gitignore").write_text("secret_*.py\n")
    for name in ("a.log", "keep.log", "out/x.py", "src/secret_a.py", "src/ok.py", "src/deep/secret_c.py",
                 "lib/secret_b.py"):
        (repo / name).write_text("def f():\n    pass\n")
    summary = ingest(str(repo), "p", workspace)
    files = set(IndexReader(workspace.project("p")).table("files")["path"].to_pylist())
    assert {path for path in files if not path.endswith(".gitignore")} == {"keep.log", "src/ok.py", "lib/secret_b.py"}
    assert summary["skipped"] == {"gitignored": 3, "gitignored_dir": 1}, summary["skipped"]
