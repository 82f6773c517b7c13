"""The repositories the benchmarks measure on: the shipped example, a folder, or a registry sdist in the bench cache."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

from forklift_core.example import example_source

CACHE = Path(__file__).resolve().parent / ".cache"
SECOND_REPO = "requests==2.32.3"  # a real library from the package registry, never shipped in the tests


def source_tree(repo: str) -> Path:
    """`example`, a folder, `requests`, or any `name==version` sdist, unpacked into the bench cache once."""
    if repo == "example":
        return example_source()
    if Path(repo).is_dir():
        return Path(repo)
    spec = SECOND_REPO if repo == "requests" else repo
    target = CACHE / spec.replace("==", "-")
    if not target.is_dir():
        download = CACHE / "downloads"
        download.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-d",
                        str(download), spec], check=True, capture_output=True)
        archive = sorted(download.glob(spec.split("==")[0] + "-*.tar.gz"))[-1]
        with tarfile.open(archive) as tar:
            tar.extractall(target, filter="data")
    inner = [p for p in target.iterdir() if p.is_dir()]
    return inner[0] if len(inner) == 1 else target
