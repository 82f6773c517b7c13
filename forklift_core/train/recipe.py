"""The plan -> library translators, taken from the job script itself (one copy, tested here and run there)."""

from __future__ import annotations

import importlib.util
import shlex
import sys
from functools import lru_cache
from pathlib import Path
from types import ModuleType

from forklift_core.config import TrainPlan

JOB_SCRIPT = Path(__file__).with_name("job.py")


def load_job(script: Path) -> ModuleType:
    """A job script loaded as a module (it stays importable on its own, with no forklift_core imports)."""
    spec = importlib.util.spec_from_file_location("forklift_train_job", script)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[spec.name] = module  # its dataclasses look their module up by name
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@lru_cache(maxsize=1)
def job_module() -> ModuleType:
    """train/job.py loaded as a module."""
    return load_job(JOB_SCRIPT)


def cli_command(project: str, plan: TrainPlan) -> str:
    """The `forklift train` command that runs this plan (shown in the Train tab)."""
    defaults = TrainPlan()
    parts = ["forklift", "train", "--project", project]
    if plan.base_model != defaults.base_model:
        parts += ["--base-model", plan.base_model]
    if plan.method != defaults.method:
        parts += ["--method", plan.method]
    if plan.sft_max_steps != defaults.sft_max_steps:
        parts += ["--max-steps", str(plan.sft_max_steps)]
    return " ".join(shlex.quote(p) for p in parts)
