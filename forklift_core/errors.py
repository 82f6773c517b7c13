"""Exceptions the core raises; the CLI and the UI turn them into one-line messages."""

import errno


class ForkliftError(Exception):
    """An expected failure with a message meant for the user."""


class BadInputError(ForkliftError):
    """The user's source, archive, URL or option was refused."""


class ToolError(ForkliftError):
    """An external tool (git, ctags, cscope) failed or timed out."""


class NotFoundError(ForkliftError):
    """A project, run or record the user named does not exist."""


class CancelledError(ForkliftError):
    """The user cancelled long-running work."""


class AccessDeniedError(ForkliftError):
    """The visitor may not change this (not signed in, or not the project's owner)."""


def storage_error_message(exc: OSError) -> str:
    """One line for a failed read or write of the workspace (full disk, read-only, a file where a folder goes)."""
    where = f" ({exc.filename})" if exc.filename else ""
    reason = exc.strerror or str(exc)
    hints = {
        errno.ENOSPC: "the disk is full; free some space and run again (what was already saved is kept)",
        errno.EDQUOT: "the disk quota is used up; free some space and run again (what was already saved is kept)",
        errno.EROFS: "the workspace is on a read-only file system; set FORKLIFT_WORKSPACE to a writable folder",
        errno.EACCES: "the workspace is not writable; set FORKLIFT_WORKSPACE to a writable folder",
        errno.EPERM: "the workspace is not writable; set FORKLIFT_WORKSPACE to a writable folder",
        errno.ENOTDIR: "a file stands where the workspace needs a folder; set FORKLIFT_WORKSPACE to a folder",
        errno.EEXIST: "a file stands where the workspace needs a folder; set FORKLIFT_WORKSPACE to a folder",
    }
    hint = hints.get(exc.errno or 0)
    return f"{reason}{where}: {hint}" if hint else f"{reason}{where}"
