"""A stand-in for AutoTrain Advanced's `autotrain --config FILE` on its Spaces backend (it cannot be installed here:
it pins older transformers/trl/huggingface_hub and needs the Hub).

It does what that CLI does with a config whose backend is `spaces-*`: read the YAML, resolve `${VAR}` from its
environment (HF_USERNAME, HF_TOKEN), check the fields an `llm-sft` config needs, create the private training Space
through huggingface_hub (so the fake Hub sees the real requests), print its address and exit. A config it would
reject makes it exit 1 with the reason, as the CLI does.
"""

from __future__ import annotations

import argparse
import os
import re
import sys

import yaml

REQUIRED = {"task", "base_model", "project_name", "backend", "data", "params", "hub"}


def _resolve(value: object) -> object:
    if isinstance(value, str):
        return re.sub(r"\$\{(\w+)\}", lambda m: os.environ[m.group(1)], value)
    if isinstance(value, dict):
        return {k: _resolve(v) for k, v in value.items()}
    return value


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    config = _resolve(yaml.safe_load(open(parser.parse_args().config)))
    missing = REQUIRED - set(config)
    if missing or config["task"] != "llm-sft" or "text_column" not in config["data"]["column_mapping"]:
        print(f"ERROR | invalid config: missing {sorted(missing)} or not an llm-sft config", flush=True)
        return 1
    if not config["backend"].startswith("spaces-") or not config["params"]["peft"]:
        print("ERROR | this stand-in runs the Spaces backend with peft only", flush=True)
        return 1
    from huggingface_hub import HfApi

    hub = config["hub"]
    space_id = f"{hub['username']}/autotrain-{config['project_name']}"
    api = HfApi(token=hub["token"])
    api.create_repo(space_id, repo_type="space", private=True, space_sdk="docker",
                    space_hardware=config["backend"].removeprefix("spaces-"),
                    space_secrets=[{"key": "HF_TOKEN", "value": hub["token"]}])
    print(f"INFO | Training Space created. Check progress at {api.endpoint}/spaces/{space_id}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
