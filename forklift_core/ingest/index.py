"""The ingest stage: source -> walk -> symbols -> snippets -> references -> build facts -> Parquet."""

from __future__ import annotations

import platform
import time
from collections import Counter
from concurrent.futures import as_completed
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from forklift_core import __version__
from forklift_core.config import IngestConfig
from forklift_core.errors import ToolError
from forklift_core.ingest.build import extract_build_facts
from forklift_core.ingest.ctags import ctags_version, run_ctags
from forklift_core.ingest.definitions import Definition, enrich_file, group_by_path
from forklift_core.ingest.refs import resolve_references
from forklift_core.ingest.sources import SourceTree, open_source
from forklift_core.ingest.tables import value_counts, write_index
from forklift_core.ingest.treesitter import (RawReference, extract_batch, make_pool, treesitter_available,
                                             treesitter_tasks)
from forklift_core.ingest.walk import walk_tree
from forklift_core.progress import Progress
from forklift_core.records import FileRecord, Symbol
from forklift_core.workspace import Workspace, write_json_atomic

_BATCH_FILES = 64  # tree-sitter files per task: small enough for even load and live progress


def choose_extractor(config: IngestConfig) -> str:
    """ctags when present (or asked for), tree-sitter otherwise; a clear error when neither works."""
    if config.extractor in ("auto", "ctags") and ctags_version():
        return "ctags"
    if config.extractor == "ctags":
        raise ToolError("Universal Ctags is not installed (apt-get install universal-ctags)")
    if treesitter_available():
        return "tree-sitter"
    raise ToolError("neither Universal Ctags nor tree-sitter grammars are available")


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return ""


def _extract(tree: SourceTree, files: list[FileRecord], extractor: str, config: IngestConfig,
             progress: Progress) -> tuple[list[Definition], list[RawReference]]:
    """Run ctags shards and tree-sitter batches side by side, so both cores stay busy."""
    root = str(tree.root)
    want_ts_defs = extractor == "tree-sitter"
    tasks = treesitter_tasks([(f.path, f.language) for f in files]) if (want_ts_defs or config.references) else []
    defs: list[Definition] = []
    raw_refs: list[RawReference] = []
    pool = make_pool(config.shard_count) if tasks else None
    try:
        futures = [pool.submit(extract_batch, root, tasks[i:i + _BATCH_FILES], want_ts_defs, config.references)
                   for i in range(0, len(tasks), _BATCH_FILES)] if pool else []
        if extractor == "ctags":
            progress.report(0.3, f"ctags: {len(files)} files in {config.shard_count} shards")
            defs.extend(run_ctags(root, files, config.shard_count, config.ctags_timeout_s, config.ctags_memory_mb))
        for done, future in enumerate(as_completed(futures), 1):
            batch_defs, batch_refs = future.result()
            defs.extend(batch_defs)
            raw_refs.extend(batch_refs)
            progress.report(0.35 + 0.45 * done / len(futures), f"tree-sitter: {done}/{len(futures)} batches")
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return defs, raw_refs


def _enrich(root: Path, defs: list[Definition], config: IngestConfig, progress: Progress) -> list[Symbol]:
    symbols: list[Symbol] = []
    grouped = group_by_path(defs)
    for index, (path, items) in enumerate(grouped.items()):
        if index % 200 == 0:
            progress.report(0.8 + 0.1 * index / max(len(grouped), 1), f"snippets: {index}/{len(grouped)} files")
        text = (root / path).read_bytes().decode("utf-8", "replace")
        symbols.extend(enrich_file(items, text, config))
    return symbols


def ingest(source: str, project: str, workspace: Workspace, config: IngestConfig | None = None,
           progress: Progress | None = None) -> dict[str, Any]:
    """Index a source into the project's workspace and return the summary (also kept in manifest.json)."""
    config = config or IngestConfig()
    progress = progress or Progress()
    paths = workspace.project(project)
    extractor = choose_extractor(config)
    started = time.perf_counter()
    timings: dict[str, float] = {}
    progress.report(0.0, f"opening {source}")
    tree = open_source(source, config, paths.scratch_dir, progress)
    try:
        mark = time.perf_counter()
        walked = walk_tree(tree.root, config, progress)
        timings["walk"] = time.perf_counter() - mark
        mark = time.perf_counter()
        defs, raw_refs = _extract(tree, walked.files, extractor, config, progress)
        timings["extract"] = time.perf_counter() - mark
        mark = time.perf_counter()
        symbols = _enrich(tree.root, defs, config, progress)
        timings["snippets"] = time.perf_counter() - mark
        progress.report(0.9, f"resolving {len(raw_refs)} name uses")
        mark = time.perf_counter()
        references, external = resolve_references(raw_refs, symbols) if config.references else ([], 0)
        timings["references"] = time.perf_counter() - mark
        build_facts = extract_build_facts(tree.root, walked.files)
        progress.report(0.95, "writing the index")
        mark = time.perf_counter()
        write_index(paths, {"files": walked.files, "symbols": symbols, "references": references,
                            "build_facts": build_facts})
        timings["store"] = time.perf_counter() - mark
    finally:
        tree.close()
    skipped = Counter(walked.skipped) + Counter(tree.skipped)
    summary = {
        "project": project,
        "source": {"kind": tree.kind, "origin": tree.origin},
        "commit": tree.commit,
        "extractor": extractor,
        "files": len(walked.files),
        "skipped": dict(sorted(skipped.items())),
        "warnings": dict(sorted(walked.warnings.items())),
        "symbols": len(symbols),
        "by_kind": value_counts(symbols, "kind"),
        "by_language": value_counts(symbols, "language"),
        "references": len(references),
        "external_uses": external,
        "build_facts": len(build_facts),
        "seconds": round(time.perf_counter() - started, 3),
        "stage_seconds": {k: round(v, 3) for k, v in timings.items()},
        "index": str(paths.index_dir),
    }
    manifest = {
        **summary,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "tools": {"forklift": __version__, "ctags": ctags_version() or "", "python": platform.python_version(),
                  "tree_sitter_language_pack": _package_version("tree-sitter-language-pack"),
                  "pyarrow": _package_version("pyarrow")},
        "config": config.to_dict(),
    }
    write_json_atomic(paths.manifest, manifest)
    progress.report(1.0, f"indexed {len(symbols)} symbols in {summary['files']} files")
    return summary

