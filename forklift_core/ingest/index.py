"""The ingest stage: source -> walk -> symbols -> snippets -> references -> build facts -> Parquet."""

from __future__ import annotations

import platform
import time
from collections import Counter
from concurrent.futures import as_completed
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from forklift_core import __version__
from forklift_core.config import IngestConfig
from forklift_core.errors import ToolError
from forklift_core.ingest.build import extract_build_facts
from forklift_core.ingest.docs import extract_docs
from forklift_core.ingest.history import file_history
from forklift_core.ingest.incremental import (RAW_USES, FileDelta, carried_symbols, carried_uses, file_delta,
                                              load_previous, symbol_changes, uses_table)
from forklift_core.ingest.cscope import cscope_available, cscope_callers
from forklift_core.ingest.ctags import ctags_version, run_ctags
from forklift_core.ingest.definitions import Definition, enrich_file, group_by_path
from forklift_core.ingest.refs import resolve_references
from forklift_core.ingest.sources import SourceTree, open_source
from forklift_core.ingest.tables import to_table, value_counts, write_index
from forklift_core.ingest.treesitter import (extract_batch, make_pool, treesitter_available,
                                             treesitter_tasks)
from forklift_core.ingest.walk import WalkResult, walk_tree
from forklift_core.progress import Progress
from forklift_core.versions import package_version
from forklift_core.records import FileRecord, Symbol
from forklift_core.workspace import ProjectPaths, Workspace, write_json_atomic

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


class _TreeSitterJobs:
    """Tree-sitter batches running in worker processes while the main process does other work."""

    def __init__(self, root: str, files: list[FileRecord], want_definitions: bool, want_references: bool,
                 workers: int) -> None:
        tasks = treesitter_tasks([(f.path, f.language) for f in files]) if (want_definitions or want_references) else []
        self._pool = make_pool(workers) if tasks else None
        self._futures = [self._pool.submit(extract_batch, root, tasks[i:i + _BATCH_FILES], want_definitions,
                                           want_references)
                         for i in range(0, len(tasks), _BATCH_FILES)] if self._pool else []

    def collect(self, progress: Progress) -> tuple[list[Definition], pa.Table]:
        """Wait for every batch, reporting progress; raises CancelledError when cancelled.

        Each batch's name uses become Arrow columns as they arrive: millions of small tuples never pile up.
        """
        defs: list[Definition] = []
        uses: list[pa.Table] = [uses_table([])]
        for done, future in enumerate(as_completed(self._futures), 1):
            batch_defs, batch_refs = future.result()
            defs.extend(batch_defs)
            uses.append(uses_table(batch_refs))
            progress.report(0.35 + 0.5 * done / len(self._futures), f"tree-sitter: {done}/{len(self._futures)} batches")
        return defs, pa.concat_tables(uses)

    def close(self) -> None:
        """Stop the workers (pending batches are dropped on cancel or error)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


def _with_cscope_calls(root: Path, files: list[FileRecord], symbols: pa.Table, uses: pa.Table,
                       config: IngestConfig) -> tuple[pa.Table, bool]:
    """For C, replace tree-sitter's call captures with cscope's (type uses stay from tree-sitter).

    Only when asked, or when the tree-sitter grammars are missing: its single pass is already paid for, and cscope's
    database and one query per function cost more than the whole rest of the ingest on a kernel tree.
    """
    c_files = [f.path for f in files if f.language == "C"]
    if not ((config.use_cscope or not treesitter_available()) and c_files and cscope_available()):
        return uses, False
    c_functions = pc.and_(pc.equal(symbols["language"], "C"), pc.is_in(symbols["kind"], pa.array(["function", "macro"])))
    functions = symbols.filter(c_functions)["name"].to_pylist()
    calls = cscope_callers(str(root), c_files, functions, config.ctags_timeout_s, config.ctags_memory_mb)
    c_calls = pc.and_(pc.equal(uses["kind"], "call"), pc.is_in(uses["path"], pa.array(c_files, pa.string())))
    return pa.concat_tables([uses.filter(pc.invert(c_calls)), uses_table(calls)]), True


_FLUSH_SYMBOLS = 100_000  # symbols held as Python objects before they become Arrow columns


def _enrich(root: Path, defs: list[Definition], config: IngestConfig, progress: Progress, at: float) -> pa.Table:
    """Snippets and docs for every definition, file by file (progress stays at `at`), as the symbols table.

    Symbols go into Arrow columns every _FLUSH_SYMBOLS, so a kernel tree's million never live as objects at once.
    """
    chunks: list[pa.Table] = [to_table([], Symbol)]
    pending: list[Symbol] = []
    grouped = group_by_path(defs)
    for index, (path, items) in enumerate(grouped.items()):
        if index % 200 == 0:
            progress.report(at, f"snippets: {index}/{len(grouped)} files")
        text = (root / path).read_bytes().decode("utf-8", "replace")
        pending.extend(enrich_file(items, text, config))
        if len(pending) >= _FLUSH_SYMBOLS:
            chunks.append(to_table(pending, Symbol))
            pending = []
    chunks.append(to_table(pending, Symbol))
    return pa.concat_tables(chunks)


def ingest(source: str, project: str, workspace: Workspace, config: IngestConfig | None = None,
           progress: Progress | None = None, uploaded: bool = False, owner: str | None = None) -> dict[str, Any]:
    """Index a source into the project's workspace and return the summary (also kept in manifest.json).

    `uploaded` marks an archive sent through the app; `owner` is the signed-in user who may change the project.
    """
    config = config or IngestConfig()
    progress = progress or Progress()
    paths = workspace.project(project)
    extractor = choose_extractor(config)
    started = time.perf_counter()
    timings: dict[str, float] = {}
    progress.report(0.0, f"opening {source}")
    tree = open_source(source, config, paths.scratch_dir, progress, uploaded)
    try:
        mark = time.perf_counter()
        walked = walk_tree(tree.root, config, progress)
        timings["walk"] = time.perf_counter() - mark
        previous = load_previous(paths, config, extractor) if config.incremental else None
        delta = file_delta(previous.hashes if previous else {}, walked.files)
        if previous is not None and not delta.touched:
            # Every file hashes as before: the index on disk is this tree's index.
            progress.report(1.0, f"no file changed since the last ingest ({len(walked.files)} files)")
            return _unchanged(paths, previous.manifest, tree, walked, delta, started, timings)
        touched = delta.touched if previous is not None else None  # None: a first (or full) ingest reads everything
        reread = walked.files if touched is None else [f for f in walked.files if f.path in touched]
        mark = time.perf_counter()
        jobs = _TreeSitterJobs(str(tree.root), reread, extractor == "tree-sitter", config.references,
                               config.shard_count)
        try:
            symbols = to_table([], Symbol)
            if extractor == "ctags":
                progress.report(0.3, f"ctags: {len(reread)} files in {config.shard_count} shards")
                defs = run_ctags(str(tree.root), reread, config.shard_count, config.ctags_timeout_s,
                                 config.ctags_memory_mb)
                symbols = _enrich(tree.root, defs, config, progress, 0.35)  # overlaps with the tree-sitter workers
            ts_defs, uses = jobs.collect(progress)
        finally:
            jobs.close()
        if extractor == "tree-sitter":
            symbols = _enrich(tree.root, ts_defs, config, progress, 0.87)
        timings["extract"] = time.perf_counter() - mark
        used_cscope = False
        if config.references:
            uses, used_cscope = _with_cscope_calls(tree.root, walked.files, symbols, uses, config)
        changes = None
        if previous is not None and touched is not None:
            changes = {**delta.counts(), **symbol_changes(previous, touched, symbols)}
            symbols = pa.concat_tables([carried_symbols(previous, touched), symbols])
            uses = pa.concat_tables([carried_uses(previous, touched), uses])
        progress.report(0.9, f"resolving {uses.num_rows} name uses")
        mark = time.perf_counter()
        references, external = resolve_references(uses if config.references else uses_table([]), symbols)
        timings["references"] = time.perf_counter() - mark
        build_facts = extract_build_facts(tree.root, walked.files)
        docs = extract_docs(tree.root, walked.files, config.doc_max_chars)
        # History only for the user's own checkout or ForkLift's clone; git never runs inside an upload.
        history = file_history(tree.root, [f.path for f in walked.files]) if tree.kind in ("path", "git") else []
        progress.report(0.95, "writing the index")
        mark = time.perf_counter()
        write_index(paths, {"files": walked.files, "symbols": symbols, "references": references,
                            "build_facts": build_facts, "docs": docs, "history": history,
                            RAW_USES: uses})
        timings["store"] = time.perf_counter() - mark
    finally:
        tree.close()
    summary = {
        "project": project,
        "source": {"kind": tree.kind, "origin": tree.origin},
        "commit": tree.commit,
        "extractor": extractor,
        "c_calls_from": "cscope" if used_cscope else "tree-sitter",
        "files": len(walked.files),
        "skipped": _skipped(tree, walked),
        "warnings": dict(sorted(walked.warnings.items())),
        "symbols": symbols.num_rows,
        "by_kind": value_counts(symbols["kind"]),
        "by_language": value_counts(symbols["language"]),
        "references": references.num_rows,
        "external_uses": external,
        "build_facts": len(build_facts),
        "docs": len(docs),
        "history_commits": len({h.commit for h in history}),
        **_timing(started, timings),
        "index": str(paths.index_dir),
        "reingest": changes is not None,
        "changes": changes,
    }
    return _finish(paths, summary, config, used_cscope, owner, progress)


def _finish(paths: ProjectPaths, summary: dict[str, Any], config: IngestConfig, used_cscope: bool, owner: str | None,
            progress: Progress) -> dict[str, Any]:
    """Keep the summary in manifest.json with the tools and settings that made the index."""
    manifest = {
        **summary,
        "owner": owner,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "tools": {"forklift": __version__, "ctags": ctags_version() or "", "cscope": "used" if used_cscope else "", "python": platform.python_version(),
                  "tree_sitter_language_pack": package_version("tree-sitter-language-pack"),
                  "pyarrow": package_version("pyarrow")},
        "config": config.to_dict(),
    }
    write_json_atomic(paths.manifest, manifest)
    progress.report(1.0, f"indexed {summary['symbols']} symbols in {summary['files']} files")
    return summary


def _skipped(tree: SourceTree, walked: WalkResult) -> dict[str, int]:
    """What the source and the walk left out, by reason."""
    return dict(sorted((Counter(walked.skipped) + Counter(tree.skipped)).items()))


def _timing(started: float, timings: dict[str, float]) -> dict[str, Any]:
    """The ingest's seconds in all and per stage."""
    return {"seconds": round(time.perf_counter() - started, 3),
            "stage_seconds": {k: round(v, 3) for k, v in timings.items()}}


def _unchanged(paths: ProjectPaths, before: dict[str, Any], tree: SourceTree, walked: WalkResult, delta: FileDelta,
               started: float, timings: dict[str, float]) -> dict[str, Any]:
    """The summary of a re-ingest that found every file as it was: the previous figures, a new commit and time."""
    kept = {k: v for k, v in before.items() if k not in ("owner", "created_at", "tools", "config")}
    summary = {**kept, "source": {"kind": tree.kind, "origin": tree.origin}, "commit": tree.commit,
               "skipped": _skipped(tree, walked), **_timing(started, timings), "reingest": True,
               "changes": {**delta.counts(), "symbols_added": 0, "symbols_removed": 0, "symbols_moved": 0,
                           "examples": {}}}
    write_json_atomic(paths.manifest, {**before, **summary,
                                       "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    return summary

