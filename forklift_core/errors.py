"""Exceptions the core raises; the CLI and the UI turn them into one-line messages."""


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
