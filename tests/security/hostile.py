"""Builders of hostile inputs, made at test time (nothing hostile is shipped in the repository)."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

OUTSIDE_MARKER = "server_private_function"  # a name that exists only in a file outside every ingested tree


def outside_file(tmp_path: Path) -> Path:
    """A readable code file of the 'server' that no ingest may ever read."""
    secret = tmp_path / "server" / "private.py"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_text(f"def {OUTSIDE_MARKER}():\n    return 'server data'\n")
    return secret


def tar_gz(path: Path, members: list[tuple[str, bytes | None]], encoding: str = "utf-8", gnu: bool = False) -> Path:
    """A .tar.gz of (name, data) members; data None makes a directory member (GNU format keeps raw name bytes)."""
    fmt = tarfile.GNU_FORMAT if gnu else tarfile.PAX_FORMAT
    with tarfile.open(path, "w:gz", encoding=encoding, format=fmt) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return path


def everything_under(root: Path) -> bytes:
    """Every byte of every regular file under root (workspace, exports), to grep for leaks."""
    chunks = []
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            full = os.path.join(dirpath, name)
            if os.path.isfile(full) and not os.path.islink(full):
                with open(full, "rb") as handle:
                    chunks.append(handle.read())
    return b"\n".join(chunks)
