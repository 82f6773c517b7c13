"""Installed package versions, for manifests and cards."""

from __future__ import annotations

from importlib import metadata


def package_version(name: str) -> str:
    """The installed version of a distribution, or '' when it is not installed."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return ""
