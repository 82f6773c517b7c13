"""The repositories the benchmarks measure on: the shipped example, a folder, or a registry sdist in the bench cache."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

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


@contextmanager
def linked_copy(tree: Path) -> Iterator[Path]:
    """A scratch folder holding `tree/`, a hard-linked copy of the tree (cheap, and the original is never edited:
    change a file only through `add_function`). Removed afterwards."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as scratch:  # same file system as the trees: hard links work
        subprocess.run(["cp", "-al", str(tree), str(Path(scratch) / "tree")], check=True)
        yield Path(scratch)


def add_function(path: Path) -> None:
    """Append one small function to a file of a linked copy: unlinked first, so the original stays as it was."""
    added = b"\n\ndef forklift_bench_added(value):\n    return value\n" if path.suffix == ".py" else \
        b"\nint forklift_bench_added(void) { return 0; }\n"
    content = path.read_bytes() + added
    path.unlink()
    path.write_bytes(content)


# A kernel-sized C tree: Debian's Linux source (the package registry is reachable), the core folders of it.
KERNEL_PACKAGE = "linux-source-6.1"
KERNEL_DIRS = ("kernel", "fs", "mm", "net", "include", "ipc", "block", "crypto", "lib", "security", "init",
               "arch/x86", "drivers/net")


def kernel_tree() -> Path:
    """About 18,800 files / 320 MB of Linux 6.1 (core, file systems, networking, x86, net drivers), cached once."""
    target = CACHE / f"{KERNEL_PACKAGE}-subset"
    if target.is_dir():
        return target
    download = CACHE / "downloads"
    download.mkdir(parents=True, exist_ok=True)
    debs = sorted(download.glob(f"{KERNEL_PACKAGE}_*.deb"))
    if not debs:
        subprocess.run(["apt-get", "download", KERNEL_PACKAGE], cwd=download, check=True, capture_output=True)
        debs = sorted(download.glob(f"{KERNEL_PACKAGE}_*.deb"))
    unpacked = CACHE / "kernel-deb"
    subprocess.run(["dpkg-deb", "-x", str(debs[-1]), str(unpacked)], check=True)
    archive = next(unpacked.rglob(f"{KERNEL_PACKAGE}.tar.xz"))
    partial = CACHE / f"{KERNEL_PACKAGE}-partial"
    partial.mkdir(exist_ok=True)
    subprocess.run(["tar", "-xJf", str(archive), "-C", str(partial), *(f"{KERNEL_PACKAGE}/{d}" for d in KERNEL_DIRS)],
                   check=True)
    (partial / KERNEL_PACKAGE).rename(target)
    partial.rmdir()
    return target
