"""Progress reporting and cancellation shared by the CLI, the app and the stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from threading import Event
from typing import Callable

from forklift_core.errors import CancelledError

ReportFn = Callable[[float, str], None]


def _ignore(fraction: float, message: str) -> None:
    """Default reporter: drop updates."""


@dataclass
class Progress:
    """Carries a reporter (fraction 0..1, message) and a cancel flag through a stage."""

    report_fn: ReportFn = _ignore
    cancel_event: Event = field(default_factory=Event)

    def report(self, fraction: float, message: str) -> None:
        """Report progress, raising CancelledError if the user cancelled."""
        self.check()
        self.report_fn(min(max(fraction, 0.0), 1.0), message)

    def check(self) -> None:
        """Raise CancelledError when cancellation was requested."""
        if self.cancel_event.is_set():
            raise CancelledError("cancelled by the user")

    def cancel(self) -> None:
        """Request cancellation; the stage stops at its next check."""
        self.cancel_event.set()
