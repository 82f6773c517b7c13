"""Training on a private GPU Space: the same bundle as HF Jobs, run by a Docker Space that pauses itself at the end.

ForkLift creates `NAMESPACE/forklift-train-PROJECT-RUN` (private, Docker SDK) with the token as a Space secret and
the bundle's coordinates as variables, pushes the Space's files (Dockerfile, requirements, space_entry.py,
remote_entry.py) as one staged commit, then asks for the GPU. The Space trains, pushes the adapter and pauses
itself. The launcher reads the Space's runtime: paused means the run ended (its results say how); a build or
runtime error is a failed run. In every end state — and when the run outlives its timeout — the launcher pauses
the Space as well, so the hardware is released even if the Space could not do it.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from forklift_core.hub import publish
from forklift_core.hub.client import Hub, hub_errors
from forklift_core.hub.staging import StagedPush, new_push, seal
from forklift_core.train.hf_jobs import remote_dependencies
from forklift_core.train.remote import REMOTE_ENTRY, RemoteLauncher, RemoteTarget, timeout_seconds

SPACE_ENTRY = Path(__file__).with_name("space_entry.py")
ENDED = ("PAUSED", "STOPPED", "SLEEPING")
BROKEN = ("CONFIG_ERROR", "BUILD_ERROR", "RUNTIME_ERROR", "NO_APP_FILE", "DELETING")
DOCKERFILE = """\
FROM python:3.11-slim
RUN useradd -m -u 1000 user
USER user
ENV HOME=/home/user PATH=/home/user/.local/bin:$PATH PYTHONUNBUFFERED=1
WORKDIR /home/user/app
COPY --chown=user requirements.txt .
RUN pip install --no-cache-dir --user -r requirements.txt
COPY --chown=user . .
CMD ["python", "space_entry.py"]
"""


def space_readme(project: str, run_id: str) -> str:
    """The training Space's README: its front-matter is the Space's configuration."""
    return (f"---\ntitle: ForkLift training {project} {run_id}\nsdk: docker\napp_port: 7860\npinned: false\n"
            f"tags:\n- forklift\n- training\n---\n\nA ForkLift training run for `{project}` (run `{run_id}`). It trains "
            "once, pushes the adapter to its model repo and pauses itself; nothing here runs again unless restarted.\n")


class SpaceLauncher(RemoteLauncher):
    """Runs a plan's job on a private training Space on GPU hardware; the run folder mirrors the Space's state."""

    backend, label = "space", "a training Space"

    def _launch(self, target: RemoteTarget, folder: Path) -> dict[str, Any]:
        space_id = f"{target.namespace}/forklift-train-{self.paths.name}-{target.run_id}"[:96]
        token = self.hub.token.value
        variables = {**target.environment(), "FORKLIFT_TIMEOUT_S": str(timeout_seconds(self.timeout))}
        api = self.hub.api()
        with hub_errors(self.hub, "create the training Space", space_id):
            api.create_repo(space_id, repo_type="space", private=True, space_sdk="docker", exist_ok=True, token=token,
                            space_secrets=[{"key": "HF_TOKEN", "value": token,
                                            "description": "ForkLift: pulls the bundle, pushes the adapter"}],
                            space_variables=[{"key": k, "value": v} for k, v in variables.items()])
        publish.push(self.hub, self.paths, self._stage_space(space_id, target.run_id))
        with hub_errors(self.hub, "ask for the Space's hardware", space_id):
            api.request_space_hardware(space_id, self.flavor, token=token)
        url = f"{self.hub.endpoint}/spaces/{space_id}"
        return {"space_id": space_id, "url": url}

    def _stage_space(self, space_id: str, run_id: str) -> StagedPush:
        """The Space's files, staged like any push (the token is a secret of the Space, never one of its files)."""
        staged = new_push(self.paths, "training-space", space_id, True, run_id)
        (staged.files_dir / "README.md").write_text(space_readme(self.paths.name, run_id))
        (staged.files_dir / "Dockerfile").write_text(DOCKERFILE)
        (staged.files_dir / "requirements.txt").write_text("\n".join(remote_dependencies()) + "\n")
        shutil.copy2(SPACE_ENTRY, staged.files_dir / "space_entry.py")
        shutil.copy2(REMOTE_ENTRY, staged.files_dir / "remote_entry.py")
        return seal(staged)

    def _remote_state(self, manifest: dict[str, Any]) -> tuple[str, str]:
        return space_state(self.hub, manifest["space_id"])

    def _stop(self, manifest: dict[str, Any]) -> None:
        pause_space(self.hub, manifest["space_id"])

    def _release(self, manifest: dict[str, Any]) -> None:
        release_space(self.hub, manifest["space_id"])

    def _log_lines(self, manifest: dict[str, Any]) -> list[str]:
        return space_logs(self.hub, manifest["space_id"])


# One reading of a Space's state for every backend that trains on one (ForkLift's own Space, AutoTrain's).
def space_stage(hub: Hub, space_id: str) -> str:
    """The Space's runtime stage (RUNNING, PAUSED, BUILD_ERROR, ...)."""
    with hub_errors(hub, "read the Space's state", space_id):
        runtime = hub.api().get_space_runtime(space_id, token=hub.token.value)
    return str(getattr(runtime.stage, "value", runtime.stage))


def space_state(hub: Hub, space_id: str) -> tuple[str, str]:
    """A training Space's stage as a run status: paused or stopped is 'ended', an error is 'failed'."""
    stage = space_stage(hub, space_id)
    if stage in ENDED:
        return "ended", f"the Space is {stage.lower()}"
    if stage in BROKEN:
        return "failed", f"the Space stopped with {stage} (its logs say why)"
    return "running", stage


def pause_space(hub: Hub, space_id: str) -> None:
    """Pause the Space: its hardware stops billing."""
    with hub_errors(hub, "pause the Space", space_id):
        hub.api().pause_space(space_id, token=hub.token.value)


def release_space(hub: Hub, space_id: str) -> None:
    """Pause the Space unless it already is."""
    if space_stage(hub, space_id) not in ("PAUSED", "STOPPED"):
        pause_space(hub, space_id)


def space_logs(hub: Hub, space_id: str) -> list[str]:
    """The Space's log lines: the build's while it builds, the run's after."""
    building = space_stage(hub, space_id) in ("BUILDING", "BUILD_ERROR")
    with hub_errors(hub, "read the Space's logs", space_id):
        return [line.rstrip("\n") for line in hub.api().fetch_space_logs(space_id, build=building,
                                                                          token=hub.token.value)]
