"""The native helpers (`_native.c`), or None where the extension was not built: callers keep a Python way."""

from __future__ import annotations

from types import ModuleType

native: ModuleType | None
try:
    from forklift_core.ingest import _native as native
except ImportError:  # built by `pip install` (setuptools ext-modules); absent on a bare checkout
    native = None


def native_available() -> bool:
    """True when the native helpers were built."""
    return native is not None
