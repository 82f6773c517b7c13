"""The ingest stage: source -> walk -> symbols -> snippets -> references -> build facts -> Parquet."""

from __future__ import annotations

import platform
import shutil
import tempfile
import time
from collections import Counter, deque
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, suppress
from datetime import datetime, timezone
from itertools import chain
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import pyarrow as pa

from forklift_core import __version__
from forklift_core.config import IngestConfig
from forklift_core.ingest.build import extract_build_facts
from forklift_core.ingest.history import file_history
from forklift_core.ingest.incremental import (RAW_USES, USES_SCHEMA, FileDelta, carried_symbol_rows,
                                              carried_symbols, carried_uses, file_delta, load_previous,
                                              symbol_changes)
from forklift_core.ingest.cscope import cscope_version
from forklift_core.ingest.ctags import ctags_version
from forklift_core.ingest.extraction import Extraction, WarmPool, c_references_from, c_type_names, choose_extractor
from forklift_core.ingest.memory import release_memory, use_lean_allocator
from forklift_core.ingest.refs import Resolver, file_batches
from forklift_core.ingest.sources import SourceTree, open_source
from forklift_core.ingest.tables import IndexStaging, value_counts
from forklift_core.ingest.walk import WalkResult, walk_tree
from forklift_core.progress import Progress
from forklift_core.versions import package_version
from forklift_core.workspace import ProjectPaths, Workspace, write_json_atomic


def ingest(source: str, project: str, workspace: Workspace, config: IngestConfig | None = None,
           progress: Progress | None = None, uploaded: bool = False, owner: str | None = None) -> dict[str, Any]:
    """Index a source into the project's workspace and return the summary (also kept in manifest.json).

    `uploaded` marks an archive sent through the app; `owner` is the signed-in user who may change the project.
    """
    config = config or IngestConfig()
    progress = progress or Progress()
    use_lean_allocator()
    paths = workspace.project(project)
    extractor = choose_extractor(config)
    started = time.perf_counter()
    timings: dict[str, float] = {}
    progress.report(0.0, f"opening {source}")
    tree = open_source(source, config, paths.scratch_dir, progress, uploaded)
    # Left in reverse: the workers stop, then their part files go, then the source (a clone, an unpacked upload).
    with ExitStack() as cleanup:
        cleanup.callback(tree.close)
        parts_dir = cleanup.enter_context(_parts_folder(paths))
        previous = load_previous(paths, config, extractor, c_references_from(config)) if config.incremental else None
        # A first ingest: workers start during the walk, and read the first ctags chunks while it goes on.
        warm = cleanup.enter_context(WarmPool(config, tree.root, parts_dir, extractor)) if previous is None else None
        mark = time.perf_counter()
        walked = walk_tree(tree.root, config, progress, warm.see if warm is not None else None)
        timings["walk"] = time.perf_counter() - mark
        delta = file_delta(previous.hashes if previous else {}, walked.files)
        if previous is not None and not delta.touched:
            # Every file hashes as before: the index on disk is this tree's index.
            progress.report(1.0, f"no file changed since the last ingest ({len(walked.files)} files)")
            return _unchanged(paths, previous.manifest, tree, walked, delta, started, timings)
        touched = delta.touched if previous is not None else None  # None: a first (or full) ingest reads everything
        reread = walked.files if touched is None else [f for f in walked.files if f.path in touched]
        mark = time.perf_counter()
        carried = carried_symbols(previous, touched) if previous is not None and touched is not None else None
        staging = cleanup.enter_context(IndexStaging(paths))
        # Left after the extraction (which cancels its tasks, so the writer waiting on them stops) and before the
        # staging (which an error leaves uncommitted).
        background = cleanup.enter_context(ThreadPoolExecutor(1))
        with Extraction(tree.root, reread, extractor, config, progress, parts_dir,
                        known_types=c_type_names(carried) if carried is not None else (), warm=warm) as extraction:
            symbol_rows: Iterable[pa.Table | pa.RecordBatch] = extraction.symbol_rows()
            if carried is not None:
                symbol_rows = chain(carried_symbol_rows(previous, touched), symbol_rows)
            # The symbols' text goes from each part file into the index, on another thread, as soon as its task
            # ends: while the workers read on, then while this process resolves the uses (Parquet's encoder, the
            # part reader and the workers leave the GIL to the rest).
            symbols_written = background.submit(staging.stream, "symbols", _checked(symbol_rows, progress))
            symbols = extraction.symbols()
            timings["definitions"] = time.perf_counter() - mark
            uses_found: Iterable[pa.Table] = extraction.uses()
            changes = None
            if previous is not None and touched is not None and carried is not None:
                changes = {**delta.counts(), **symbol_changes(previous, touched, symbols)}
                symbols = pa.concat_tables([carried, symbols])
                del carried  # held by `symbols` alone now: what the resolver leaves of it goes once it is built
                uses_found = chain([carried_uses(previous, touched)], uses_found)
            mark = time.perf_counter()
            resolver = Resolver(symbols, walked.files)
            counts = {"symbols": symbols.num_rows, "by_kind": value_counts(symbols["kind"]),
                      "by_language": value_counts(symbols["language"])}
            del symbols  # the resolver keeps the two columns it needs; the rest of the outline goes now
            release_memory()  # the building's scratch, before the workers' C shards peak beside it
            # The raw uses go to their table as they come (a re-ingest reads them back for the files it keeps), on
            # the background thread once the symbols are written, while this one resolves them.
            with staging.writer(RAW_USES, USES_SCHEMA) as keep_raw:
                references, external = _resolve(staging, _kept(uses_found, keep_raw, background), resolver, progress,
                                                config.references, threads=min(config.shard_count, RESOLVE_THREADS))
            timings["references"] = time.perf_counter() - mark
            build_facts = extract_build_facts(tree.root, walked.files)
            # History only for the user's own checkout or ForkLift's clone; git never runs inside an upload.
            history = file_history(tree.root, [f.path for f in walked.files]) if tree.kind in ("path", "git") else []
            progress.report(0.95, "writing the index")
            mark = time.perf_counter()
            for name, rows in {"files": walked.files, "build_facts": build_facts, "docs": walked.docs,
                               "history": history}.items():
                staging.write(name, rows)
            symbols_written.result()
            staging.commit()
            timings["store"] = time.perf_counter() - mark
    summary = {
        "project": project,
        "source": {"kind": tree.kind, "origin": tree.origin},
        "commit": tree.commit,
        "extractor": extractor,
        "c_references_from": extraction.c_references,
        "python_references_from": extraction.python_references,
        "extracted_files": len(reread),
        "files": len(walked.files),
        "skipped": _skipped(tree, walked),
        "warnings": dict(sorted(walked.warnings.items())),
        **counts,
        "references": references,
        "external_uses": external,
        "build_facts": len(build_facts),
        "docs": len(walked.docs),
        "history_commits": len({h.commit for h in history}),
        **_timing(started, timings),
        "index": str(paths.index_dir),
        "reingest": changes is not None,
        "changes": changes,
    }
    return _finish(paths, summary, config, owner, progress)


# Uses resolved per batch: a kernel tree's 3 million at once took 1.2 GiB of working memory; a batch of this size
# takes a fifth of that for the same speed.
RESOLVE_BATCH_ROWS = 250_000
# Threads that resolve batches at once: more would cut the batches smaller, and each batch pays a fixed cost (its
# names looked up among the index's: about 45 ms on a kernel's 600,000 names).
RESOLVE_THREADS = 4


@contextmanager
def _parts_folder(paths: ProjectPaths) -> Iterator[Path]:
    """A scratch folder for the workers' symbol part files, removed however the ingest ends."""
    paths.scratch_dir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=paths.scratch_dir, prefix="symbols-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        with suppress(OSError):  # the scratch folder too, when nothing else is in it
            paths.scratch_dir.rmdir()


def _checked(batches: Iterable[pa.Table | pa.RecordBatch], progress: Progress) -> Iterator[pa.Table | pa.RecordBatch]:
    """The batches, stopping at the next one once the ingest is cancelled."""
    for batch in batches:
        progress.check()
        yield batch


def _kept(tables: Iterable[pa.Table], keep: Callable[[pa.Table], int], pool: ThreadPoolExecutor) -> Iterator[pa.Table]:
    """The tables, each also handed to `keep` on the pool's thread, in order; every `keep` has ended when the
    iteration ends (its writer may close then). Its error, if any, is raised then."""
    kept: list[Future] = []  # type: ignore[type-arg]
    try:
        for table in tables:
            kept.append(pool.submit(keep, table))
            yield table
    finally:
        for future in kept:
            future.result()


def _resolve(staging: IndexStaging, uses: Iterable[pa.Table], resolver: Resolver, progress: Progress,
             enabled: bool = True, threads: int = 1) -> tuple[int, int]:
    """Resolve the uses, table by table as they come and in batches of whole files, straight into the references
    table: (edges, uses of unknown names). Not `enabled` (references off), the uses are read and none resolved.

    The batches are resolved on `threads` threads, in order: the resolver works on numpy and Arrow columns, which
    leave the GIL, and once the C shards end the workers are idle (a kernel's resolution ran on one core for a
    quarter of the ingest). The references are written here while the threads resolve the next batches."""
    external = 0

    def batches() -> Iterator[pa.Table]:
        for table in uses:
            yield from file_batches(table, _batch_rows(threads)) if enabled else ()

    def resolved(batch: pa.Table) -> tuple[pa.Table, int]:
        try:
            return resolver.resolve(batch)
        finally:
            # Each thread's scratch handed back as it ends (the C heap keeps one arena per thread), while the
            # workers' next tasks peak beside it.
            release_memory()

    def edges() -> Iterator[pa.Table]:
        nonlocal external
        with ThreadPoolExecutor(threads) as pool:
            for found, unknown in _ordered_map(pool, resolved, batches(), ahead=threads):
                progress.check()
                external += unknown
                yield found

    return staging.stream("references", edges()), external


def _batch_rows(threads: int) -> int:
    """Uses per batch when `threads` batches are resolved at once: the working memory of one big batch in all."""
    return max(RESOLVE_BATCH_ROWS // max(threads, 1), 1)


def _ordered_map(pool: ThreadPoolExecutor, function: Callable[[Any], Any], items: Iterator[Any],
                 ahead: int) -> Iterator[Any]:
    """function(item) for each item, in order, with at most `ahead` items at work at once on the pool."""
    pending: deque = deque()  # type: ignore[type-arg]
    for item in items:
        pending.append(pool.submit(function, item))
        if len(pending) >= ahead:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def reference_sources(summary: dict[str, Any]) -> str:
    """Where an ingest's references came from, for each language that has a choice ('C from cscope, Python from
    lexical'); '' when none applied."""
    return ", ".join(f"{language} from {summary[key]}" for language, key in (("C", "c_references_from"),
                                                                             ("Python", "python_references_from"))
                     if summary.get(key))


def _finish(paths: ProjectPaths, summary: dict[str, Any], config: IngestConfig, owner: str | None,
            progress: Progress) -> dict[str, Any]:
    """Keep the summary in manifest.json with the tools and settings that made the index."""
    manifest = {
        **summary,
        "owner": owner,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "tools": {"forklift": __version__, "ctags": ctags_version() or "", "cscope": cscope_version() if summary["c_references_from"] == "cscope" else "", "python": platform.python_version(),
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
               "skipped": _skipped(tree, walked), **_timing(started, timings), "reingest": True, "extracted_files": 0,
               "changes": {**delta.counts(), "symbols_added": 0, "symbols_removed": 0, "symbols_moved": 0,
                           "examples": {}}}
    write_json_atomic(paths.manifest, {**before, **summary,
                                       "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    return summary

