"""Which launcher serves a run: the one it was started with (local process, HF Jobs, a Space, AutoTrain)."""

from __future__ import annotations

import os
import time
from typing import Any, Callable

from forklift_core.train.launch import LocalLauncher, RunStatus, read_manifest
from forklift_core.workspace import Workspace

BACKENDS = ("local", "hf-jobs", "space", "autotrain")
REMOTE_LABELS = {"hf-jobs": "Hugging Face Jobs", "space": "a GPU Space", "autotrain": "AutoTrain (Spaces)"}
# A remote run's state is asked for at most this often (the app's timer ticks every 2 s; the Hub has rate limits).
REMOTE_POLL_S = float(os.environ.get("FORKLIFT_REMOTE_POLL_S", "15"))


class Runs:
    """Start, poll, cancel and read logs of a project's runs on whichever backend each one uses.

    `hub` makes the Hub client when a remote backend needs one (the signed-in visitor's token on a Space).
    """

    def __init__(self, workspace: Workspace, project: str, hub: Callable[[], Any] | None = None,
                 polled: dict[str, tuple[float, Any]] | None = None) -> None:
        self.workspace, self.project, self.hub = workspace, project, hub
        self.local = LocalLauncher(workspace, project)
        # The last remote answers: the app passes one dict that outlives the per-request Runs objects.
        self._polled = polled if polled is not None else {}

    def remote(self, backend: str = "hf-jobs", flavor: str = "t4-small", timeout: str = "2h",
               model_repo: str = "") -> Any:
        """The launcher of a remote backend (it reads the Hub with the token `hub` gives)."""
        from forklift_core.train.autotrain import AutoTrainLauncher
        from forklift_core.train.hf_jobs import HFJobsLauncher
        from forklift_core.train.hf_space import SpaceLauncher

        if self.hub is None:
            raise RuntimeError("a remote backend needs a Hub client")
        kind = {"hf-jobs": HFJobsLauncher, "space": SpaceLauncher, "autotrain": AutoTrainLauncher}[backend]
        return kind(self.workspace, self.project, self.hub(), flavor, timeout, model_repo)

    def backend(self, run_id: str) -> str:
        return read_manifest(self.local.run_dir(run_id)).get("backend", "local")

    def launcher(self, run_id: str) -> Any:
        backend = self.backend(run_id)
        return self.local if backend == "local" else self.remote(backend)

    def poll(self, run_id: str) -> RunStatus:
        """The run's status; a running remote run is asked at most every REMOTE_POLL_S seconds."""
        backend = self.backend(run_id)
        if backend == "local":
            return self.local.poll(run_id)

        def ask() -> RunStatus:
            status = self.local.poll(run_id)
            return self.remote(backend).poll(run_id) if status.status == "running" else status

        return self._throttled(run_id, ask)

    def cancel(self, run_id: str) -> None:
        self._polled.pop(run_id, None)
        self.launcher(run_id).cancel(run_id)

    def logs(self, run_id: str, tail: int = 200) -> str:
        """The run's latest log lines; a remote run's are fetched at most every REMOTE_POLL_S seconds."""
        if self.backend(run_id) == "local":
            return self.local.logs(run_id, tail)
        return self._throttled(f"logs:{run_id}", lambda: self.launcher(run_id).logs(run_id, tail))

    def _throttled(self, key: str, ask: Callable[[], Any]) -> Any:
        """The last answer under `key` while it is younger than REMOTE_POLL_S, else a fresh one from `ask`."""
        cached = self._polled.get(key)
        if cached and time.monotonic() - cached[0] < REMOTE_POLL_S:
            return cached[1]
        answer = ask()
        self._polled[key] = (time.monotonic(), answer)
        return answer
