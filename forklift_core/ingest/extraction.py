"""Extraction in worker processes: ctags chunks with their snippets and Python calls, tree-sitter batches, C
reference shards.

Every task runs in a worker process (parsing holds the GIL) and hands back Arrow columns; the main process plans,
schedules, collects, and resolves each finished task's name uses while the workers read on, so all cores stay busy
to the last task and no million Python objects pile up in it.
C references come from the native lexical scan (clexical), or cscope when it was not built, Python's from a
lexical scan (pycalls) of the bytes a ctags task read for its snippets, the other languages' from one tree-sitter
pass. A tree-sitter pass over a file ctags already read runs only for the references it adds.
"""

from __future__ import annotations

import functools
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Collection, Iterator, Sequence, TypeVar

import pyarrow as pa
import pyarrow.compute as pc

from forklift_core.config import IngestConfig
from forklift_core.ingest.clexical import c_lexical_uses
from forklift_core.ingest.cscope import cscope_available, cscope_safe, cscope_uses
from forklift_core.errors import ToolError
from forklift_core.ingest.ctags import ctags_version, run_ctags
from forklift_core.ingest.definitions import definitions_table
from forklift_core.ingest.enrich import enrich
from forklift_core.ingest.buffers import read_laid_out
from forklift_core.ingest.incremental import USES_SCHEMA, uses_table
from forklift_core.ingest.languages import language_for
from forklift_core.ingest.memory import release_memory
from forklift_core.ingest.pycalls import python_uses_in
from forklift_core.ingest.native import native_available
from forklift_core.ingest.tables import to_table
from forklift_core.ingest.treesitter import FileTask, extract_batch, treesitter_available, treesitter_tasks
from forklift_core.ingest.workers import make_pool, start_fork_server
from forklift_core.progress import Progress
from forklift_core.records import FileRecord, Symbol, symbol_outline

# Work per task: small enough that both cores stay busy to the end and progress moves, big enough that a
# process start or a database header is noise.
CTAGS_CHUNK_BYTES = 4 << 20
C_SHARD_BYTES = 8 << 20
TREESITTER_BATCH_FILES = 64
# Below this many bytes of code the tasks run in this process: starting workers (the fork server imports Arrow and
# the extractors first, half a second) would cost more than the parallel work saves.
INLINE_BYTES = 4 << 20

T = TypeVar("T")


@dataclass
class ExtractionPlan:
    """Which files each extractor reads, cut into tasks."""

    ctags: list[list[str]] = field(default_factory=list)
    treesitter: list[list[FileTask]] = field(default_factory=list)
    c_shards: list[list[str]] = field(default_factory=list)  # C files whose references the scan or cscope finds
    treesitter_definitions: bool = False
    c_references: str = ""  # lexical | cscope | tree-sitter | '' (no C file, or references off)
    python_references: str = ""  # lexical | tree-sitter | '' (no Python file, or references off)

    @property
    def task_count(self) -> int:
        """Tasks in all."""
        return len(self.ctags) + len(self.treesitter) + len(self.c_shards)


def keep_part(symbols: pa.Table, part: str) -> pa.Table:
    """Write a task's whole symbols to its part file and hand back their outline (the main process never holds the
    snippets: they go from the part file straight into the index). Uncompressed: lz4 took twice the writing's time
    and three times the reading's, for a file that lives a few seconds in the page cache."""
    if symbols.num_rows:
        with pa.ipc.new_file(part, symbols.schema) as writer:
            writer.write_table(symbols)
    return symbol_outline(symbols)


def read_part(part: Path) -> Iterator[pa.RecordBatch]:
    """The symbols of a part file, batch by batch (a task without symbols wrote none)."""
    if part.is_file():
        with pa.ipc.open_file(pa.memory_map(str(part))) as reader:  # mapped: the batches are the file's pages
            for index in range(reader.num_record_batches):
                yield reader.get_batch(index)


def chunk_by_size(items: Sequence[T], sizes: Sequence[int], target: int) -> list[list[T]]:
    """Consecutive runs of items of about `target` bytes each (the order kept, so results concatenate in order)."""
    chunks: list[list[T]] = []
    current: list[T] = []
    load = 0
    for item, size in zip(items, sizes):
        current.append(item)
        load += size
        if load >= target:
            chunks.append(current)
            current, load = [], 0
    return chunks + ([current] if current else [])


def _even_target(total: int, most: int, workers: int) -> int:
    """A task size of at most about `most` that cuts `total` into a multiple of `workers` tasks: the last round
    of a few big tasks then keeps every worker busy instead of one."""
    if total <= 0:
        return most
    tasks = -(-(-(-total // most)) // workers) * workers  # ceil(ceil(total / most) / workers) * workers
    return -(-total // tasks)


def choose_extractor(config: IngestConfig) -> str:
    """ctags when present (or asked for), tree-sitter otherwise; a clear error when neither works."""
    if config.extractor in ("auto", "ctags") and ctags_version():
        return "ctags"
    if config.extractor == "ctags":
        raise ToolError("Universal Ctags is not installed (apt-get install universal-ctags)")
    if treesitter_available():
        return "tree-sitter"
    raise ToolError("neither Universal Ctags nor tree-sitter grammars are available")


def c_references_from(config: IngestConfig) -> str:
    """Where C references come from under this config on this machine: the first that works of the one asked for,
    then the lexical scan, cscope and tree-sitter."""
    works = {"lexical": native_available(), "cscope": cscope_available(), "tree-sitter": treesitter_available()}
    preferred = [] if config.c_references == "auto" else [config.c_references]
    return next((source for source in [*preferred, *works] if works[source]), "tree-sitter")


def plan_extraction(files: Sequence[FileRecord], extractor: str, config: IngestConfig,
                    ctags_ahead: Sequence[list[str]] = ()) -> ExtractionPlan:
    """Cut the code files (in the walk's order) into ctags chunks, tree-sitter batches, C reference shards and
    Python scan batches. `ctags_ahead`: the ctags chunks already cut during the walk, the same as cutting the whole
    list would give (they are its first chunks)."""
    code = [f for f in files if f.language]
    plan = ExtractionPlan(treesitter_definitions=extractor == "tree-sitter")
    if extractor == "ctags":
        done = sum(len(chunk) for chunk in ctags_ahead)
        if [path for chunk in ctags_ahead for path in chunk] != [f.path for f in code[:done]]:
            raise RuntimeError("the ctags chunks cut during the walk are not the walk's first code files")
        rest = code[done:]
        plan.ctags = [*ctags_ahead, *chunk_by_size([f.path for f in rest], [f.size for f in rest], CTAGS_CHUNK_BYTES)]
    c_files = [f for f in code if f.language == "C"]
    if config.references and c_files:
        plan.c_references = c_references_from(config)
    # cscope's file list cannot hold every name: tree-sitter reads the others.
    by_shard = {"lexical": c_files, "cscope": [f for f in c_files if cscope_safe(f.path)]}.get(plan.c_references, [])
    plan.c_shards = chunk_by_size([f.path for f in by_shard], [f.size for f in by_shard],
                                  _even_target(sum(f.size for f in by_shard), C_SHARD_BYTES, config.shard_count))
    python_files = [f for f in code if f.language == "Python"]
    if config.references and python_files:
        plan.python_references = "lexical" if python_calls_in_ctags(extractor, config) else "tree-sitter"
    by_scan = python_files if plan.python_references == "lexical" else []  # the ctags tasks scan them
    skipped = {f.path for f in by_shard} | {f.path for f in by_scan}
    # Tree-sitter reads a file for its definitions (no ctags) or for references nothing cheaper gives.
    wanted = [f for f in code if plan.treesitter_definitions or (config.references and f.path not in skipped)]
    tasks = treesitter_tasks([(f.path, f.language) for f in wanted])
    plan.treesitter = [tasks[i:i + TREESITTER_BATCH_FILES] for i in range(0, len(tasks), TREESITTER_BATCH_FILES)]
    return plan


def _releasing(task: Callable[..., T]) -> Callable[..., T]:
    """A worker task that hands its freed memory back when it ends."""
    @functools.wraps(task)
    def run(*args: Any) -> T:
        try:
            return task(*args)
        finally:
            release_memory()
    return run


@_releasing
def ctags_task(root: str, paths: list[str], config: IngestConfig, part: str) -> tuple[pa.Table, pa.Table]:
    """One ctags chunk, in a worker: the files' symbols with their snippets into `part`; back their outline and
    the calls of its Python files (scanned from the bytes read for the snippets, when Python calls come from the
    lexical scan)."""
    files = read_laid_out(root, paths)
    defs = run_ctags(root, paths, config.ctags_timeout_s, config.ctags_memory_mb)
    outline = keep_part(enrich(Path(root), defs, config, files), part)
    if not python_calls_in_ctags("ctags", config):
        return outline, USES_SCHEMA.empty_table()
    return outline, python_uses_in(files.only([_is_python(path) for path in files.paths]))


def python_calls_in_ctags(extractor: str, config: IngestConfig) -> bool:
    """Whether the ctags tasks find the Python calls: with ctags as the extractor and the lexical scan asked for
    (tree-sitter as the extractor parses every file anyway, and takes its calls from that parse)."""
    return extractor == "ctags" and config.references and config.python_references == "lexical"


def _is_python(path: str) -> bool:
    spec = language_for(path)
    return spec is not None and spec.name == "Python"


@_releasing
def treesitter_task(root: str, tasks: list[FileTask], definitions: bool, references: bool, config: IngestConfig,
                    part: str) -> tuple[pa.Table, pa.Table]:
    """One tree-sitter batch, in a worker: (the outline of its symbols, kept in `part`, when tree-sitter is the
    extractor; name uses)."""
    defs, refs = extract_batch(root, tasks, definitions, references)
    return keep_part(enrich(Path(root), definitions_table(defs), config), part), uses_table(refs)


@_releasing
def c_references_task(root: str, paths: list[str], type_names: Collection[str], source: str,
                      config: IngestConfig) -> pa.Table:
    """One shard of C files, in a worker: their call sites and type uses, by the lexical scan or cscope."""
    if source == "lexical":
        return c_lexical_uses(root, paths, type_names)
    return cscope_uses(root, paths, type_names, config.ctags_timeout_s, config.ctags_memory_mb)


def c_type_names(symbols: pa.Table) -> set[str]:
    """Names of C typedefs: a name among them, where it is no call, is a type use."""
    typedefs = pc.and_(pc.equal(symbols["language"], "C"), pc.equal(symbols["kind"], "type"))
    return set(symbols.filter(typedefs)["name"].to_pylist())


class InlineExecutor:
    """The pool's submit/shutdown run in this process, for an input too small to be worth the workers."""

    def submit(self, fn: Callable[..., T], *args: Any) -> Future:  # type: ignore[type-arg]
        """Run now; the future holds the result or the error."""
        future: Future = Future()  # type: ignore[type-arg]
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # noqa: BLE001 - handed to whoever reads the future, as a pool would
            future.set_exception(exc)
        return future

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        """Nothing to stop."""


class _Collector:
    """Futures gathered in submission order, with progress as each completes (and a cancel check while waiting)."""

    def __init__(self, progress: Progress, plan: ExtractionPlan, start: float, span: float) -> None:
        self.progress, self.total, self.start, self.span, self.done = progress, plan.task_count, start, span, 0

    def in_order(self, futures: list[Future], label: str) -> Iterator[Any]:  # type: ignore[type-arg]
        """Each future's result in submission order, as soon as it and those before it are done. The list is
        emptied as it goes: a result handed on is no longer held here (a kernel's uses would pile up)."""
        pending = set(futures)
        futures.reverse()
        while futures:
            future = futures.pop()
            while future in pending and not future.done():
                finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                self._advance(len(finished), label)
            if future in pending:  # done between two waits
                pending.discard(future)
                self._advance(1, label)
            yield future.result()

    def gather(self, futures: list[Future], label: str) -> list[Any]:  # type: ignore[type-arg]
        """Every result, in submission order."""
        return list(self.in_order(list(futures), label))

    def _advance(self, finished: int, label: str) -> None:
        self.done += finished
        self.progress.report(self.start + self.span * self.done / max(1, self.total),
                             f"{label}: {self.done}/{self.total} tasks")


def _ready() -> None:
    """Sent to each new worker so the pool starts it ahead of its first task (the pool starts a worker per task
    submitted), and it sets up Arrow's compute functions."""
    pc.equal(pa.array([""]), "")


def _probe_pandas() -> None:
    """Have pyarrow make its once-per-process check for pandas now (an import, 0.3 s here, made on its first array
    or scalar from Python values), on the walk's thread before the pool's starter begins: the fork server (started
    with the warm pool) is still importing on the other core then, where later, after a walk that outlasts the
    workers, the import would hold up the end of the ingest. (Made on the starter thread instead, it held the GIL
    beside the walk: a library ingest of the Python tree 1.80 -> 1.88 s, best of five.)"""
    pa.array([""])


def part_path(parts_dir: Path, number: int) -> Path:
    """Where the extraction task `number` keeps its symbols."""
    return parts_dir / f"{number:06d}.arrow"


class WarmPool:
    """Workers started while the walk is still finding files, once it has found enough code to need them, and (with
    ctags as the extractor) ctags chunks handed to them as the walk fills each one.

    The first workers take about half a second to start (the fork server imports Arrow and the extractors), and
    the walk reads every file once: begun beside it, the workers' start and the first chunks' definitions are off
    the ingest's path. The pool is started on a thread of its own: a worker's start waits for the fork server's
    imports, and the walk goes on meanwhile instead of waiting with it. Only for a first (or full) ingest: a
    re-ingest usually reads a few files. A context manager: leaving it stops the workers unless an Extraction took
    them over.
    """

    def __init__(self, config: IngestConfig, root: Path, parts_dir: Path, extractor: str) -> None:
        self.workers, self.code_bytes, self.config = config.shard_count, 0, config
        self.root, self.parts_dir, self.reads_ahead = str(root), parts_dir, extractor == "ctags"
        self.pool: ProcessPoolExecutor | None = None  # once its workers are up
        self.chunks: list[list[str]] = []  # full ctags chunks of the code walked so far, in the walk's order
        self.futures: list[Future] = []  # type: ignore[type-arg]  # one per chunk handed to the workers
        self._filling: list[str] = []
        self._filled_bytes = 0
        self._lock = threading.Lock()  # the pool, the chunks and the futures, between the walk and the starter
        self._starter: threading.Thread | None = None
        self._start_error: BaseException | None = None

    def __enter__(self) -> "WarmPool":
        if self.workers > 1:
            start_fork_server()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._starter is not None:  # its error, if take() never raised it, is no longer anyone's concern
            self._starter.join()
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def see(self, record: FileRecord) -> None:
        """Count a walked file; start the workers when the code found would not run in this process, and hand
        them each ctags chunk as it fills (cut as `chunk_by_size` cuts the whole list)."""
        if not record.language:
            return
        self.code_bytes += record.size
        if self.reads_ahead:
            self._filling.append(record.path)
            self._filled_bytes += record.size
            if self._filled_bytes >= CTAGS_CHUNK_BYTES:
                with self._lock:
                    self.chunks.append(self._filling)
                self._filling, self._filled_bytes = [], 0
                self._hand_over()
        if self._starter is None and self.workers > 1 and self.code_bytes >= INLINE_BYTES:
            _probe_pandas()
            self._starter = threading.Thread(target=self._start, name="forklift-warm-pool", daemon=True)
            self._starter.start()

    def _start(self) -> None:
        """On the starter thread: the pool and its workers (each start waits for the fork server), then the chunks
        filled meanwhile."""
        try:
            pool = make_pool(self.workers)
            for _ in range(self.workers):
                pool.submit(_ready)  # starts a worker; the pool is locked meanwhile, so the walk is not given it yet
            with self._lock:
                self.pool = pool
            self._hand_over()
        except BaseException as exc:  # noqa: BLE001 - raised again on the walk's thread, in take() or on leaving
            self._start_error = exc

    def _hand_over(self) -> None:
        """Submit every filled chunk not yet handed to the workers (nothing until the pool is there)."""
        with self._lock:
            while self.pool is not None and len(self.futures) < len(self.chunks):
                number = len(self.futures)
                self.futures.append(self.pool.submit(ctags_task, self.root, self.chunks[number], self.config,
                                                     str(part_path(self.parts_dir, number))))

    def _started(self) -> None:
        """Wait for the starter thread, if there is one, and raise its error."""
        if self._starter is not None:
            self._starter.join()
            self._starter = None
        if self._start_error is not None:
            error, self._start_error = self._start_error, None
            raise error

    def take(self) -> tuple[ProcessPoolExecutor | None, list[list[str]], list[Future]]:  # type: ignore[type-arg]
        """The workers, the chunks handed to them and their futures, for an Extraction to own from now on."""
        self._started()
        self._hand_over()
        pool, self.pool = self.pool, None
        handed, self.futures = self.futures, []  # their results (a kernel's outlines) are held only once
        return pool, self.chunks[:len(handed)], handed


class Extraction:
    """The plan running on a pool of one worker per shard: the symbols once the definition tasks end, then the
    name uses task by task, so the caller resolves a C shard's uses while the workers read the next ones.

    Each task's symbols go to a part file in `parts_dir` (`parts`, in order). C reference shards start once every C
    typedef name is known (from ctags or tree-sitter); `known_types` adds those of files not read again (a
    re-ingest). `warm` hands over workers already started. A context manager: entering starts the definition tasks,
    leaving stops the pool, dropping pending tasks (a cancel, an error). Inside, `symbol_rows` (read on another
    thread) yields each part's symbols as its task ends; call `symbols`, then read `uses`.
    """

    def __init__(self, root: Path, files: Sequence[FileRecord], extractor: str, config: IngestConfig,
                 progress: Progress, parts_dir: Path, known_types: Collection[str] = (),
                 warm: WarmPool | None = None) -> None:
        self.root, self.config, self.known_types = str(root), config, known_types
        started, ahead, self._ahead = warm.take() if warm is not None else (None, [], [])
        self.plan = plan_extraction(files, extractor, config, ahead)
        self.c_references, self.python_references = self.plan.c_references, self.plan.python_references
        self.parts = [part_path(parts_dir, number) for number in range(len(self.plan.ctags) + len(self.plan.treesitter))]
        self.collector = _Collector(progress, self.plan, 0.3, 0.6)
        size = sum(f.size for f in files if f.language)
        self.spare: ProcessPoolExecutor | None = None  # workers started for nothing: stopped at the end
        if size >= INLINE_BYTES and config.shard_count > 1 and self.plan.task_count:
            self.pool: ProcessPoolExecutor | InlineExecutor = started or make_pool(config.shard_count)
        else:
            self.pool, self.spare = InlineExecutor(), started
        self._ready_uses: list[pa.Table] = []
        self._shards: list[Future] = []  # type: ignore[type-arg]
        self._parsed: list[Future] = []  # type: ignore[type-arg]
        self._defining: list[Future] = []  # type: ignore[type-arg]
        self._writing: list[tuple[Future, Path]] = []  # type: ignore[type-arg]

    def __enter__(self) -> "Extraction":
        """Start the definition tasks (ctags chunks, tree-sitter batches), after those the warm pool handed over."""
        plan, where, config = self.plan, self.root, self.config
        tree_parts = self.parts[len(plan.ctags):]
        self._defining = self._ahead + [self.pool.submit(ctags_task, where, paths, config, str(part))
                                        for paths, part in list(zip(plan.ctags, self.parts))[len(self._ahead):]]
        self._ahead = []
        self._parsed = [self.pool.submit(treesitter_task, where, batch, plan.treesitter_definitions, config.references,
                                         config, str(part)) for batch, part in zip(plan.treesitter, tree_parts)]
        # The tasks whose part files hold symbols, each with its part.
        self._writing = list(zip(self._defining + (self._parsed if plan.treesitter_definitions else []), self.parts))
        return self

    def __exit__(self, *exc: object) -> None:
        for pool in (self.pool, self.spare):
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)

    def symbols(self) -> pa.Table:
        """The outline of every symbol found (their whole rows are in the part files); starts the C reference shards."""
        plan, where, config = self.plan, self.root, self.config
        empty = symbol_outline(to_table([], Symbol))
        defined = self.collector.gather(self._defining, "ctags")
        self._defining = []
        symbols = [empty] + [outline for outline, _ in defined]
        self._ready_uses = [calls for _, calls in defined if calls.num_rows]
        if plan.treesitter_definitions:  # tree-sitter is the extractor: its batches hold the symbols
            done = self.collector.gather(self._parsed, "tree-sitter")
            symbols += [found for found, _ in done]
            self._ready_uses += [used for _, used in done]
            self._parsed = []
        outline = pa.concat_tables(symbols)
        if plan.c_shards:  # typedef names come from the symbols, so the shards wait for them
            types = c_type_names(outline) | set(self.known_types)
            self._shards = [self.pool.submit(c_references_task, where, paths, types, plan.c_references, config)
                            for paths in plan.c_shards]
        return outline

    def symbol_rows(self) -> Iterator[pa.RecordBatch]:
        """The symbols of the part files, batch by batch in order, each part as soon as its task has ended: read in
        another thread, the index writes them while the workers read on. A task that failed or was cancelled
        ends them with its error."""
        while self._writing:
            task, part = self._writing.pop(0)
            task.result()  # waits; the result itself is the outline, which `symbols` hands on
            del task  # a kernel's outlines are held once, by `symbols`, not here too
            yield from read_part(part)

    def uses(self) -> Iterator[pa.Table]:
        """The raw name uses, task by task in a fixed order (each task's files whole), as the tasks end."""
        ready, self._ready_uses = self._ready_uses, []
        if ready:  # the definition tasks' uses as one table (no copy): resolved and written per batch, not per task
            yield pa.concat_tables(ready)
        yield from self.collector.in_order(self._shards, f"C references ({self.c_references})")
        for _, used in self.collector.in_order(self._parsed, "tree-sitter"):
            yield used
