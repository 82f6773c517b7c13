"""Helpers shared by the tabs: settings read at build time and error translation."""

from __future__ import annotations

import functools
import inspect
import os
import threading
from dataclasses import dataclass
from typing import Any, Callable

import gradio as gr

from forklift_core.access import require_write_access
from forklift_core.errors import ForkliftError, storage_error_message
from forklift_core.ingest.languages import language_for
from forklift_core.workspace import Workspace


@dataclass(frozen=True)
class AppSettings:
    """What the app needs to know about where it runs."""

    workspace: Workspace
    public: bool  # a public Space: no local paths, no writes by anonymous visitors
    on_space: bool = False  # Hugging Face sign-in exists only on a Space
    base_model: str = ""  # the Train tab's default base model ('' : TrainPlan's embedded default)

    @classmethod
    def from_env(cls, workspace: Workspace | None = None) -> "AppSettings":
        """Read FORKLIFT_PUBLIC / SPACE_ID / FORKLIFT_BASE_MODEL at build time (never at import)."""
        on_space = bool(os.environ.get("SPACE_ID"))
        public = os.environ.get("FORKLIFT_PUBLIC", "1" if on_space else "0") == "1"
        return cls(workspace or Workspace.default(), public, on_space, os.environ.get("FORKLIFT_BASE_MODEL", ""))


def sign_in_section(settings: AppSettings) -> None:
    """Sign-in for a public app: the Hugging Face button on a Space, a read-only notice elsewhere.

    Off a Space Gradio can only mock sign-in through a Hub login, which a public preview must not depend on,
    so a local `FORKLIFT_PUBLIC=1` run is the anonymous visitor's view: everything readable, nothing writable.
    """
    if not settings.public:
        return
    if settings.on_space:
        gr.LoginButton(elem_id="login")
        return
    gr.Markdown("**Public preview:** visitors can look around; changes need Hugging Face sign-in, "
                "which is available when ForkLift runs as a Space.", elem_id="public-notice")


@dataclass(frozen=True)
class Reviewer:
    """Who is editing, and whether they may."""

    name: str
    can_edit: bool


def reviewer(settings: AppSettings, profile: gr.OAuthProfile | None) -> Reviewer:
    """A signed-in Hugging Face user edits as themselves; on a public Space anonymous visitors only read."""
    if profile is not None:
        return Reviewer(profile.username, True)
    if settings.public:
        return Reviewer("anonymous", False)
    return Reviewer(os.environ.get("FORKLIFT_USER") or os.environ.get("USER") or "local", True)


def writer(settings: AppSettings, profile: gr.OAuthProfile | None, project: str | None, action: str) -> Reviewer:
    """The person about to change a project; on a public Space only its signed-in owner (else a clear refusal)."""
    person = reviewer(settings, profile)
    if settings.public:
        require_write_access(settings.workspace, project, profile.username if profile else None, action)
    return person


def user_errors(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Show a core ForkliftError as a Gradio error message instead of a stack trace."""

    if inspect.isgeneratorfunction(handler):  # Gradio streams only from a function it sees as a generator
        @functools.wraps(handler)
        def streaming(*args: Any, **kwargs: Any) -> Any:
            try:
                yield from handler(*args, **kwargs)
            except ForkliftError as exc:
                raise gr.Error(str(exc)) from exc
            except OSError as exc:
                raise gr.Error(storage_error_message(exc)) from exc

        return streaming

    @functools.wraps(handler)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except ForkliftError as exc:
            raise gr.Error(str(exc)) from exc
        except OSError as exc:
            raise gr.Error(storage_error_message(exc)) from exc

    return wrapped


class CancelFlags:
    """One cancel flag per browser session, so a visitor's Cancel stops only their own run."""

    def __init__(self) -> None:
        self._flags: dict[str, threading.Event] = {}

    def start(self, request: gr.Request) -> threading.Event:
        """A fresh flag for a run starting in this session."""
        flag = self._flags[request.session_hash or "local"] = threading.Event()
        return flag

    def cancel(self, request: gr.Request) -> str:
        """Set this session's flag; the run stops at its next progress report."""
        flag = self._flags.get(request.session_hash or "local")
        if flag is not None:
            flag.set()
        return "Cancelling…"


def coming_soon(title: str, description: str) -> None:
    """A tab that is not built yet says what it will do, with no controls that pretend to work."""
    gr.Markdown(f"### {title} — coming next\n\n{description}")


# gr.Code's highlighter names for the languages ForkLift indexes.
_CODE_LANGUAGES = {"Python": "python", "C": "c", "C++": "cpp", "JavaScript": "javascript", "TypeScript": "typescript",
                   "TSX": "typescript", "Go": "go", "Rust": "rust", "Java": "java", "Sh": "shell"}


def code_language(path: str) -> str | None:
    """The highlighter for a file, by its extension (None shows plain text)."""
    spec = language_for(path)
    return _CODE_LANGUAGES.get(spec.name) if spec else None


def keep_projects_fresh(tab: gr.Tab, dropdown: gr.Dropdown, projects: Callable[[], list[str]]) -> None:
    """Read the project list again each time the tab is opened, so a project ingested (or generated) in another
    tab is there without a page reload; the chosen project stays chosen while it exists."""
    def refresh(current: str | None) -> Any:
        names = projects()
        if current in names:  # the value is left alone: the user may have picked another one meanwhile
            return gr.update(choices=names)
        return gr.update(choices=names, value=names[0] if names else None)

    tab.select(refresh, dropdown, dropdown, queue=False)
