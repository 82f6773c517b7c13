"""The model card of a pushed adapter: YAML metadata the Hub indexes, then what it is and how it scored."""

from __future__ import annotations

from typing import Any

import yaml

from forklift_core.versions import package_version

_SYSTEMS = ("base", "tuned", "tuned+guard", "tuned+context")
_METRICS = ("fact_accuracy", "file_accuracy", "hallucination_rate", "similarity")


def _evaluation_table(report: dict[str, Any] | None) -> str:
    """The report's overall figures per system, as a Markdown table (or a note that the run was not evaluated)."""
    if not report:
        return "Not evaluated yet: `forklift eval --project NAME --run RUN` writes the figures.\n"
    overall = report.get("overall", {})
    systems = [s for s in _SYSTEMS if s in overall]
    lines = ["| system | " + " | ".join(_METRICS) + " |", "|---|" + "---:|" * len(_METRICS)]
    for system in systems:
        lines.append(f"| {system} | " + " | ".join(f"{overall[system].get(m, 0):.2f}" for m in _METRICS) + " |")
    items = report.get("item_count", "")
    return (f"On {items} held-back questions (unseen phrasings of trained facts and facts of held-out files); "
            "`fact_accuracy` is parsed from the answer against the index, `hallucination_rate` the share of answers naming a "
            "path or symbol the "
            "index does not hold.\n\n" + "\n".join(lines) + "\n")


def model_card(project: str, run_id: str, plan: dict[str, Any], manifest: dict[str, Any],
               report: dict[str, Any] | None, dataset_repo: str = "", source: dict[str, Any] | None = None) -> str:
    """README.md for an adapter repo: `base_model`, `library_name: peft`, datasets and tags, then the figures."""
    base = plan.get("base_model", "")
    header: dict[str, Any] = {"base_model": base, "library_name": "peft", "pipeline_tag": "text-generation",
                              "tags": ["forklift", "lora", "peft", "trl", "code", *plan.get("method", "sft").split("+")]}
    if dataset_repo:
        header["datasets"] = [dataset_repo]
    header["forklift"] = {"project": project, "run_id": run_id, "source": source or {},
                          "method": plan.get("method"), "lora_r": plan.get("lora_r"),
                          "learning_rate": plan.get("learning_rate"), "steps": manifest.get("steps"),
                          "versions": {"forklift": package_version("forklift"), "peft": package_version("peft"),
                                       "trl": package_version("trl")}}
    origin = (source or {}).get("origin", "")
    body = (f"# ForkLift adapter for `{project}`\n\n"
            f"A LoRA adapter for `{base}` that answers questions about one codebase"
            + (f" (`{origin}`" + (f" at `{(source or {}).get('commit', '')}`" if (source or {}).get("commit") else "")
               + ")" if origin else "")
            + ", trained by ForkLift on question/answer pairs rendered from its index of the source"
            + (f" ([dataset](../../datasets/{dataset_repo}))" if dataset_repo else "") + ".\n\n"
            "## Use\n\n```python\nfrom peft import AutoPeftModelForCausalLM\n"
            "model = AutoPeftModelForCausalLM.from_pretrained(\"<this repo>\")\n```\n\n"
            "Or pull it into ForkLift (`forklift pull --model REPO --project NAME`) and compare it with its base in "
            "the Compare tab.\n\n## Evaluation\n\n" + _evaluation_table(report)
            + "\n## Training\n\n`plan.yaml` is the exact plan (TRL SFT then DPO as its method says, LoRA on the "
            "base's linear layers); `manifest.json` holds the run's figures and package versions.\n")
    return "---\n" + yaml.safe_dump(header, sort_keys=False, allow_unicode=True) + "---\n\n" + body
