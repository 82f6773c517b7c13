"""Export the curated pairs as a DatasetDict in TRL's standard formats, with a dataset card."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

import yaml

from forklift_core.curate.store import CurationStore
from forklift_core.errors import BadInputError, NotFoundError
from forklift_core.versions import package_version
from forklift_core.workspace import ProjectPaths

FORMATS = ("hf", "jsonl", "parquet", "alpaca")
SPLITS = ("train", "validation", "test")
DEFAULT_STATUSES = ("accepted",)  # the curated state: what a reviewer accepted
UNREVIEWED = ("pending",)  # added on request, e.g. before anyone has reviewed
EXPORT_MARKER = ".forklift-export"  # only a folder carrying it is ever replaced by a new export
STAGING_MARKER = ".forklift-staging"  # a .partial folder is removed only when ForkLift made it


def sft_row(pair: dict[str, Any]) -> dict[str, Any]:
    """Conversational SFT: a user turn and the grounded assistant turn (TRL 'messages')."""
    return {"messages": [{"role": "user", "content": pair["question"]},
                         {"role": "assistant", "content": pair["answer"]}],
            "id": pair["id"], "family": pair["family"], "fact_id": pair["fact_id"], "template_id": pair["template_id"],
            "test_kind": pair["test_kind"], "concise": pair["concise"]}


def dpo_row(pair: dict[str, Any]) -> dict[str, Any]:
    """Conversational preference: prompt, chosen and rejected as message lists (TRL's standard format)."""
    return {"prompt": [{"role": "user", "content": pair["question"]}],
            "chosen": [{"role": "assistant", "content": pair["answer"]}],
            "rejected": [{"role": "assistant", "content": pair["rejected"]}],
            "id": pair["id"], "family": pair["family"], "fact_id": pair["fact_id"],
            "negative_kind": pair["negative_kind"], "test_kind": pair["test_kind"]}


def alpaca_row(sft: dict[str, Any]) -> dict[str, Any]:
    """Alpaca-style instruction/input/output, from an SFT row."""
    user, assistant = sft["messages"]
    return {"instruction": user["content"], "input": "", "output": assistant["content"]}


def dataset_hash(rows: dict[str, dict[str, list[dict[str, Any]]]]) -> str:
    """sha256 of the exported rows in a canonical order: same pairs, same hash."""
    digest = hashlib.sha256()
    for config_name in sorted(rows):
        for split in sorted(rows[config_name]):
            for row in rows[config_name][split]:
                digest.update(json.dumps(row, sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()


def _collect(store: CurationStore, statuses: Sequence[str]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    rows: dict[str, dict[str, list[dict[str, Any]]]] = {"sft": {}, "dpo": {}}
    for kind, make in (("sft", sft_row), ("dpo", dpo_row)):
        for split in SPLITS:
            found = [make(p) for p in store.pairs(kind=kind, statuses=statuses, split=split)]
            if found:
                rows[kind][split] = found
    return {k: v for k, v in rows.items() if v}


def _write(rows: dict[str, dict[str, list[dict[str, Any]]]], out: Path, fmt: str) -> dict[str, dict[str, str]]:
    """Write each config and split; returns the data file of each (for the card's `configs`)."""
    from datasets import Dataset, DatasetDict
    from datasets.utils.logging import disable_progress_bar

    disable_progress_bar()  # the CLI shows its own progress; per-split bars would interleave with it
    files: dict[str, dict[str, str]] = {}
    for name, splits in rows.items():
        if fmt == "alpaca":
            if name != "sft":
                continue
            folder = out / "alpaca"
            folder.mkdir(parents=True, exist_ok=True)
            for split, items in splits.items():
                target = folder / f"{split}.json"
                target.write_text(json.dumps([alpaca_row(r) for r in items], indent=1, ensure_ascii=False))
                files.setdefault("alpaca", {})[split] = f"alpaca/{split}.json"
            continue
        dataset = DatasetDict({split: Dataset.from_list(items) for split, items in splits.items()})
        if fmt == "hf":
            dataset.save_to_disk(str(out / name))
            continue
        (out / name).mkdir(parents=True, exist_ok=True)
        for split, data in dataset.items():
            relative = f"{name}/{split}.{fmt}"
            if fmt == "jsonl":
                data.to_json(str(out / relative), lines=True, force_ascii=False)
            else:
                data.to_parquet(str(out / relative))
            files.setdefault(name, {})[split] = relative
    return files


def dataset_card(meta: dict[str, Any], rows: dict[str, dict[str, list[dict[str, Any]]]], files: dict[str, dict[str, str]],
                 statuses: Sequence[str], digest: str) -> str:
    """README.md with YAML metadata: configs, provenance, counts per family and split, settings and versions."""
    counts = {name: {split: len(items) for split, items in splits.items()} for name, splits in rows.items()}
    families = {name: dict(sorted(Counter(r["family"] for items in splits.values() for r in items).items()))
                for name, splits in rows.items()}
    header: dict[str, Any] = {
        "language": ["en"], "license": "other", "pretty_name": f"ForkLift: {meta.get('project', '')}",
        "task_categories": ["question-answering", "text-generation"],
        "tags": ["forklift", "code", "sft", "dpo", "synthetic", "grounded"],
    }
    if files:
        header["configs"] = [{"config_name": name, "data_files": [{"split": s, "path": p} for s, p in splits.items()]}
                             for name, splits in files.items()]
    header["forklift"] = {
        "source": meta.get("source"), "commit": meta.get("commit"), "dataset_hash": digest,
        "statuses_exported": list(statuses), "counts": counts, "families": families,
        "generator": meta.get("generate_config"),
        "versions": {"forklift": meta.get("forklift"), "detect_secrets": meta.get("detect_secrets"),
                     "datasets": package_version("datasets")},
    }
    body = (f"# ForkLift dataset for `{meta.get('project', '')}`\n\n"
            "Question/answer pairs (`sft`, TRL conversational `messages`) and preference pairs (`dpo`, "
            "conversational `prompt`/`chosen`/`rejected`) about one codebase. Every answer was rendered from "
            "ForkLift's index of the source, so it is true by construction; rejected answers are plausible wrong "
            "ones the code suggests, or the base model's own wrong answers.\n\n"
            "The `test` split holds unseen phrasings of trained facts (`test_kind: unseen_phrasing`) and facts "
            "from held-out files (`test_kind: held_out_fact`).\n\n"
            f"Source: `{(meta.get('source') or {}).get('origin', '')}` at commit `{meta.get('commit') or 'n/a'}`. "
            f"Dataset hash: `{digest}`.\n")
    return "---\n" + yaml.safe_dump(header, sort_keys=False, allow_unicode=True) + "---\n\n" + body


def _clear_own_staging(staging: Path) -> None:
    """Remove a staging folder left by an earlier ForkLift export; refuse one that ForkLift did not make."""
    if not staging.exists() and not staging.is_symlink():
        return
    if staging.is_symlink() or not (staging / STAGING_MARKER).is_file():
        raise BadInputError(f"{staging} exists and was not made by ForkLift; move it away, it is left untouched")
    shutil.rmtree(staging)


def export_dataset(paths: ProjectPaths, out: Path | None = None, fmt: str = "hf",
                   statuses: Sequence[str] = DEFAULT_STATUSES) -> dict[str, Any]:
    """Export the chosen statuses (accepted by default) and return counts, hash and location."""
    if fmt not in FORMATS:
        raise BadInputError(f"format must be one of {', '.join(FORMATS)}")
    if not paths.curation_db.is_file():
        raise NotFoundError(f"project {paths.name!r} has no generated pairs yet: run `forklift generate` first")
    store = CurationStore(paths.curation_db)
    rows = _collect(store, statuses)
    if not rows:
        hint = "" if "pending" in statuses else " (accept pairs in the Curate tab, or include unreviewed pairs)"
        raise BadInputError(f"no pairs with status {', '.join(statuses)} to export{hint}")
    out = out or paths.dataset_dir
    if out.exists() and any(out.iterdir()) and not (out / EXPORT_MARKER).is_file():
        raise BadInputError(f"{out} exists and is not a ForkLift export; choose an empty or new folder")
    staging = out.with_name(out.name + ".partial")
    _clear_own_staging(staging)
    staging.mkdir(parents=True)
    (staging / STAGING_MARKER).touch()
    files = _write(rows, staging, fmt)
    digest = dataset_hash(rows)
    (staging / EXPORT_MARKER).write_text(digest + "\n")
    (staging / STAGING_MARKER).unlink()
    (staging / "README.md").write_text(dataset_card(store.meta(), rows, files, statuses, digest), encoding="utf-8")
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)
    return {"out": str(out), "format": fmt, "dataset_hash": digest,
            "counts": {name: {split: len(items) for split, items in splits.items()} for name, splits in rows.items()}}
