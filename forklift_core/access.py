"""Who may change a project: on a public Space, only the signed-in user who made it."""

from __future__ import annotations

from forklift_core.errors import AccessDeniedError, NotFoundError
from forklift_core.workspace import Workspace


def project_owner(workspace: Workspace, project: str) -> str | None:
    """The user recorded as the project's maker, or None (made by the server itself, or not made yet)."""
    paths = workspace.project(project)
    try:
        return paths.read_manifest().get("owner") or None
    except NotFoundError:
        return None


def require_write_access(workspace: Workspace, project: str | None, user: str | None, action: str) -> None:
    """Refuse a change by an anonymous visitor, or by anyone but the owner of an existing project."""
    if user is None:
        raise AccessDeniedError(f"sign in with Hugging Face to {action}: visitors can look but not change anything")
    if not project or not workspace.project(project).exists():
        return  # a new project: whoever makes it owns it
    owner = project_owner(workspace, project)
    if owner != user:
        whose = f"belongs to {owner}" if owner else "is shared read-only on this Space"
        raise AccessDeniedError(f"project {project!r} {whose}; {action} in a project of your own")
