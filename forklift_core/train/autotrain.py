"""Training through AutoTrain Advanced: ForkLift writes its config and runs its CLI, in AutoTrain's own environment.

autotrain-advanced pins older transformers / trl / huggingface_hub, so it never goes into ForkLift's environment:
it lives in a virtualenv of its own (`make autotrain-env`, or FORKLIFT_AUTOTRAIN naming its `autotrain`
executable). ForkLift pushes the run's SFT rows to a private dataset repo (`train.jsonl`, `validation.jsonl`, a
`messages` column AutoTrain maps with `chat_template: tokenizer`), writes `autotrain.yml` (task `llm-sft`, peft with
int4, its Spaces backend on the chosen hardware) and runs `autotrain --config autotrain.yml` with HF_USERNAME and
HF_TOKEN in the CLI's environment (AutoTrain reads `${HF_TOKEN}`; the file never holds the token). The CLI creates
AutoTrain's training Space and returns; from then on the run is that Space: its state read, its logs shown, and
paused in every end state. The adapter AutoTrain pushes to `NAMESPACE/PROJECT-RUN` comes back into the run folder.
AutoTrain runs the SFT stage; a plan's DPO stage needs the `hf-jobs` or `space` backend (job.py runs SFT then DPO).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from forklift_core.errors import BadInputError
from forklift_core.hub.staging import StagedPush, new_push, seal
from forklift_core.train.hf_space import pause_space, release_space, space_logs, space_state
from forklift_core.train.launch import TRAIN_DATA, _alive, read_manifest
from forklift_core.train.remote import RemoteLauncher, RemoteTarget
from forklift_core.workspace import write_json_atomic

DEFAULT_ENV = Path.home() / ".cache" / "forklift" / "autotrain"  # AutoTrain's own virtualenv
ADAPTER_FILES = ["adapter_config.json", "adapter_model.safetensors", "tokenizer*", "special_tokens_map.json",
                 "chat_template.jinja"]
_SPACE_URL = re.compile(r"/spaces/([A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*)")


def autotrain_executable() -> Path:
    """The `autotrain` CLI of AutoTrain's own environment; never one inside ForkLift's."""
    configured = os.environ.get("FORKLIFT_AUTOTRAIN")
    executable = Path(configured) if configured else DEFAULT_ENV / "bin" / "autotrain"
    if not executable.is_file():
        raise BadInputError(f"AutoTrain is not installed at {executable}: run `make autotrain-env` (it installs "
                            "autotrain-advanced into a virtualenv of its own) or set FORKLIFT_AUTOTRAIN to its "
                            "`autotrain` executable")
    if Path(os.path.abspath(executable)).is_relative_to(os.path.abspath(sys.prefix)):
        raise BadInputError(f"{executable} is inside ForkLift's own environment ({sys.prefix}); AutoTrain pins "
                            "older transformers/trl/huggingface_hub and must live in a virtualenv of its own "
                            "(`make autotrain-env`)")
    return executable


def autotrain_config(plan: dict[str, Any], data_repo: str, project_name: str, flavor: str,
                     has_validation: bool) -> dict[str, Any]:
    """AutoTrain Advanced's config for the run's SFT stage, mapped from ForkLift's plan."""
    length = plan.get("max_length") or 1024
    return {
        "task": "llm-sft", "base_model": plan["base_model"], "project_name": project_name, "log": "tensorboard",
        "backend": f"spaces-{flavor}",
        "data": {"path": data_repo, "train_split": "train", "valid_split": "validation" if has_validation else None,
                 "chat_template": "tokenizer", "column_mapping": {"text_column": "messages"}},
        "params": {"block_size": length, "model_max_length": length, "epochs": max(1, round(plan["epochs"])),
                   "batch_size": plan["batch_size"], "lr": plan["learning_rate"], "peft": True,
                   "quantization": "int4", "target_modules": ",".join(plan.get("target_modules") or ()) or "all-linear",
                   "lora_r": plan["lora_r"], "lora_alpha": plan["lora_alpha"], "lora_dropout": plan["lora_dropout"],
                   "padding": "right", "optimizer": "adamw_torch", "scheduler": plan.get("lr_scheduler", "cosine"),
                   "gradient_accumulation": plan["gradient_accumulation"], "mixed_precision": "fp16",
                   "merge_adapter": False, "seed": plan["seed"]},
        "hub": {"username": "${HF_USERNAME}", "token": "${HF_TOKEN}", "push_to_hub": True},
    }


class AutoTrainLauncher(RemoteLauncher):
    """Runs a plan's SFT stage with AutoTrain Advanced on its Spaces backend."""

    backend, label = "autotrain", "AutoTrain"

    def _preflight(self) -> None:
        autotrain_executable()  # a missing AutoTrain is said before any data leaves this machine

    @staticmethod
    def _sft_splits(folder: Path) -> dict[str, Any]:
        """The run's non-empty SFT train and validation splits (what the bundle holds and the config names)."""
        from datasets import load_from_disk

        splits = load_from_disk(str(folder / (read_manifest(folder).get("train_dataset") or TRAIN_DATA) / "sft"))
        return {name: splits[name] for name in ("train", "validation") if name in splits and len(splits[name])}

    def _stage_bundle(self, run_id: str, folder: Path, repo_id: str) -> StagedPush:
        """The SFT rows as JSON lines AutoTrain loads by split name."""
        if "sft" not in self._remote_plan(folder)["method"]:
            raise BadInputError("AutoTrain runs the SFT stage; a DPO-only plan needs --backend hf-jobs or space")
        staged = new_push(self.paths, "run-bundle", repo_id, True, run_id)
        for split, rows in self._sft_splits(folder).items():
            with open(staged.files_dir / f"{split}.jsonl", "w", encoding="utf-8") as out:
                for row in rows:
                    out.write(json.dumps({"messages": row["messages"]}, ensure_ascii=False) + "\n")
        return seal(staged)

    def _launch(self, target: RemoteTarget, folder: Path) -> dict[str, Any]:
        executable = autotrain_executable()
        namespace, project_name = target.model_repo.split("/", 1)
        config = autotrain_config(self._remote_plan(folder), target.bundle, project_name, self.flavor,
                                  "validation" in self._sft_splits(folder))
        (folder / "autotrain.yml").write_text(yaml.safe_dump(config, sort_keys=False))
        log = open(folder / "autotrain.log", "ab")
        # AutoTrain's documented way to get the token: HF_TOKEN in its environment, read as ${HF_TOKEN}.
        env = {**os.environ, "HF_USERNAME": namespace, "HF_TOKEN": self.hub.token.value, "HF_ENDPOINT": self.hub.endpoint}
        proc = subprocess.Popen([str(executable), "--config", str(folder / "autotrain.yml")], cwd=folder, env=env,
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        return {"autotrain_pid": proc.pid, "autotrain_project": project_name}

    def _space(self, manifest: dict[str, Any]) -> str:
        """AutoTrain's training Space, read from what its CLI printed (remembered once found)."""
        if manifest.get("space_id"):
            return manifest["space_id"]
        folder = self.local.run_dir(manifest["run_id"])
        found = _SPACE_URL.findall((folder / "autotrain.log").read_text(errors="replace"))
        if found:
            write_json_atomic(folder / "manifest.json", {**read_manifest(folder), "space_id": found[-1]})
            manifest["space_id"] = found[-1]
            return found[-1]
        return ""

    def _remote_state(self, manifest: dict[str, Any]) -> tuple[str, str]:
        if _alive(manifest["autotrain_pid"]):
            return "running", "AutoTrain is setting up its training Space"
        space = self._space(manifest)
        if not space:
            return "failed", "AutoTrain exited without a training Space: " + (self._cli_lines(manifest)[-1:] or [""])[0]
        return space_state(self.hub, space)

    def _stop(self, manifest: dict[str, Any]) -> None:
        if _alive(manifest["autotrain_pid"]):
            os.killpg(manifest["autotrain_pid"], signal.SIGTERM)
        if space := self._space(manifest):
            pause_space(self.hub, space)

    def _release(self, manifest: dict[str, Any]) -> None:
        if space := self._space(manifest):
            release_space(self.hub, space)

    def _cli_lines(self, manifest: dict[str, Any]) -> list[str]:
        path = self.local.run_dir(manifest["run_id"]) / "autotrain.log"
        return path.read_text(errors="replace").splitlines() if path.is_file() else []

    def _log_lines(self, manifest: dict[str, Any]) -> list[str]:
        space = self._space(manifest)
        return self._cli_lines(manifest) + (space_logs(self.hub, space) if space else [])

    def _result_patterns(self) -> list[str]:
        return ADAPTER_FILES  # AutoTrain pushes the PEFT files at the repo's root

    def _adopt_results(self, remote: Path, folder: Path) -> None:
        if (remote / "adapter_config.json").is_file():
            shutil.rmtree(folder / "adapter", ignore_errors=True)
            (folder / "adapter").mkdir()
            for path in remote.iterdir():
                if path.is_file():
                    shutil.copy2(path, folder / "adapter" / path.name)
