"""Unpack an untrusted .zip or .tar.* member by member, with byte, count and ratio caps."""

from __future__ import annotations

import stat
import tarfile
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Iterator

from forklift_core.errors import BadInputError
from forklift_core.ingest.names import unsafe_name_reason

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
_CHUNK = 1 << 16


@dataclass(frozen=True)
class ArchiveLimits:
    """Caps that stop zip bombs and oversized uploads."""

    max_bytes: int
    max_members: int
    max_ratio: int
    max_depth: int = 64


@dataclass(frozen=True)
class _Member:
    name: str
    kind: str  # file | dir | link | special
    size: int
    packed: int  # compressed size when the format records it, else 0


def is_archive(path: Path) -> bool:
    """True when the file name ends in a suffix ForkLift unpacks."""
    return path.name.lower().endswith(ARCHIVE_SUFFIXES)


def safe_member_path(name: str) -> PurePosixPath:
    """The member's relative path; an absolute path or a '..' component is refused outright."""
    cleaned = name.replace("\\", "/")
    posix = PurePosixPath(cleaned)
    if cleaned.startswith("/") or (len(cleaned) > 1 and cleaned[1] == ":"):
        raise BadInputError(f"archive member {name!r} has an absolute path; archive refused")
    if ".." in posix.parts:
        raise BadInputError(f"archive member {name!r} escapes the tree with '..'; archive refused")
    return PurePosixPath(*[p for p in posix.parts if p not in ("", ".")])


def _zip_members(archive: zipfile.ZipFile) -> Iterator[tuple[_Member, zipfile.ZipInfo]]:
    for info in archive.infolist():
        mode = info.external_attr >> 16
        if info.is_dir():
            kind = "dir"
        elif stat.S_ISLNK(mode):
            kind = "link"
        elif stat.S_IFMT(mode) and not stat.S_ISREG(mode):  # many zips store permission bits only
            kind = "special"
        else:
            kind = "file"
        yield _Member(info.filename, kind, info.file_size, info.compress_size), info


def _tar_members(archive: tarfile.TarFile) -> Iterator[tuple[_Member, tarfile.TarInfo]]:
    for info in archive:  # streaming: members are read one at a time
        kind = "dir" if info.isdir() else "file" if info.isfile() else "link" if (info.issym() or info.islnk()) else "special"
        yield _Member(info.name, kind, info.size, 0), info


def _copy_capped(src: IO[bytes], dest: Path, byte_budget: int, ratio_budget: int, ratio: int) -> int:
    """Copy until EOF, stopping as soon as either budget is spent, chunk by chunk (sizes in headers lie)."""
    written = 0
    with dest.open("xb") as out:
        while chunk := src.read(_CHUNK):
            written += len(chunk)
            if written > byte_budget:
                raise BadInputError("archive unpacks to more than the allowed size; refused as a possible bomb")
            if written > ratio_budget:
                raise BadInputError(f"archive unpacks to more than {ratio}x its size; refused as a possible bomb")
            out.write(chunk)
    return written


def _skip_reason(relative: PurePosixPath, limits: ArchiveLimits) -> str | None:
    """Why a member is left out (a name no tool may see, or nested too deep), or None to extract it."""
    if any(unsafe_name_reason(part) for part in relative.parts):
        return "archive_unsafe_name"
    if len(relative.parts) > limits.max_depth:
        return "archive_too_deep"
    return None


def extract_archive(archive_path: Path, dest: Path, limits: ArchiveLimits) -> tuple[Path, Counter[str]]:
    """Extract into dest and return the tree root (the single top folder, if any) and skip counts."""
    packed_size = max(archive_path.stat().st_size, 1)
    # The ratio is checked while each member streams, so a bomb stops at the cap, never after it is on disk.
    ratio_cap = max(limits.max_ratio * packed_size, 1 << 20)
    skipped: Counter[str] = Counter()
    dest.mkdir(parents=True, exist_ok=True)
    total = 0
    count = 0
    try:
        if archive_path.name.lower().endswith(".zip"):
            handle: zipfile.ZipFile | tarfile.TarFile = zipfile.ZipFile(archive_path)
            members = _zip_members(handle)  # type: ignore[arg-type]
        else:
            handle = tarfile.open(archive_path, mode="r:*")
            members = _tar_members(handle)  # type: ignore[arg-type]
    except (zipfile.BadZipFile, tarfile.TarError, OSError) as exc:
        raise BadInputError(f"{archive_path.name} is not a readable archive: {exc}") from exc
    with handle:
        try:
            for member, info in members:
                count += 1
                if count > limits.max_members:
                    raise BadInputError(f"archive holds more than {limits.max_members} members; refused")
                relative = safe_member_path(member.name)
                if member.kind in ("link", "special"):
                    skipped[f"archive_{member.kind}"] += 1  # never created: links and devices stay out
                    continue
                if not relative.parts:
                    continue
                reason = _skip_reason(relative, limits)
                if reason:
                    skipped[reason] += 1
                    continue
                target = dest.joinpath(*relative.parts)
                if member.kind == "dir":
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                if member.packed and member.size > 1 << 20 and member.size / member.packed > limits.max_ratio:
                    raise BadInputError(f"archive member {member.name!r} compresses {member.size // member.packed}:1; "
                                        "refused as a zip bomb")
                target.parent.mkdir(parents=True, exist_ok=True)
                if target.exists():
                    skipped["archive_duplicate"] += 1
                    continue
                src = handle.open(info) if isinstance(handle, zipfile.ZipFile) else handle.extractfile(info)
                if src is None:
                    skipped["archive_special"] += 1
                    continue
                with src:
                    total += _copy_capped(src, target, limits.max_bytes - total, ratio_cap - total,
                                          limits.max_ratio)
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
            raise BadInputError(f"{archive_path.name} is damaged: {exc}") from exc
    entries = [p for p in dest.iterdir()]
    root = entries[0] if len(entries) == 1 and entries[0].is_dir() else dest
    return root, skipped
