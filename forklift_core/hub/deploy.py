"""`forklift deploy`: ForkLift itself as a Gradio Space, from this checkout and `spaces_assets/`.

The Space gets the app and the core library, `requirements.txt`, the README (its front-matter is the Space's
configuration: sdk, app_file, hf_oauth and the scopes the Hub tab needs) and `packages.txt` (universal-ctags).
Tests, benches and the workspace stay here. On GPU hardware the app defaults to a larger Hub base model, trained
with QLoRA (quantization 'auto' is 4-bit on CUDA).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from forklift_core.hub import publish
from forklift_core.hub.client import Hub, hub_errors
from forklift_core.hub.staging import StagedPush, new_push, seal
from forklift_core.workspace import ProjectPaths

SOURCE_ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ("app.py", "requirements.txt", "pyproject.toml", "README.md", "LICENSE")
GPU_BASE_MODEL = "Qwen/Qwen2.5-Coder-1.5B-Instruct"
CPU_FLAVORS = ("cpu-basic", "cpu-upgrade")


def stage_space(paths: ProjectPaths, space_id: str, private: bool = True, root: Path = SOURCE_ROOT) -> StagedPush:
    """The files of the Space, staged in `paths`' outbox like any push (shown, then sent as one commit)."""
    staged = new_push(paths, "space", space_id, private)
    for name in SHIPPED:
        if (root / name).is_file():
            shutil.copy2(root / name, staged.files_dir / name)
    shutil.copytree(root / "forklift_core", staged.files_dir / "forklift_core",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.so"))  # built here, for this machine
    for asset in sorted((root / "spaces_assets").iterdir()):
        if asset.is_file():
            shutil.copy2(asset, staged.files_dir / asset.name)
    return seal(staged)


def deploy(hub: Hub, paths: ProjectPaths, staged: StagedPush, hardware: str = "cpu-basic") -> StagedPush:
    """Push the staged Space, ask for its hardware, and on a GPU point the app at the larger base model."""
    done = publish.push(hub, paths, staged)
    api = hub.api()
    with hub_errors(hub, "configure the Space", staged.repo_id):
        if hardware not in CPU_FLAVORS:
            api.add_space_variable(staged.repo_id, "FORKLIFT_BASE_MODEL", GPU_BASE_MODEL,
                                   description="The Train tab's default base model on this GPU", token=hub.token.value)
        if hardware != "cpu-basic":
            api.request_space_hardware(staged.repo_id, hardware, token=hub.token.value)
    return done
