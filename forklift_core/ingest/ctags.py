"""Universal Ctags as the primary extractor: JSON output, explicit file lists, parallel shards."""

from __future__ import annotations

import io
import json
import resource
import shutil
import subprocess
from functools import lru_cache
from typing import Any, Callable, Iterator, Sequence

from forklift_core.errors import ToolError
from forklift_core.ingest.definitions import Definition
from forklift_core.ingest.languages import language_for

CTAGS_FIELDS = "+nKzSealZp"  # line, long kind, signature, end, access, language, scope, scope kind
_TAG_TEXT = ("_type", "name", "path", "kind", "scope", "scopeKind", "signature", "access")  # what the index keeps


@lru_cache(maxsize=1)
def ctags_version() -> str | None:
    """The Universal Ctags version line, or None when ctags is absent or not Universal."""
    binary = shutil.which("ctags")
    if binary is None:
        return None
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    first = out.splitlines()[0] if out else ""
    return first if "Universal Ctags" in first else None


def ctags_argv(languages: Sequence[str]) -> list[str]:
    """The fixed argument list: no option files (a repo's .ctags.d is ignored), files from stdin.

    C/C++ prototypes are on: a header declaration is a fact in itself and a realistic wrong answer later.
    """
    return ["ctags", "--options=NONE", "--output-format=json", f"--fields={CTAGS_FIELDS}", "--extras=-p",
            "--sort=no", "--kinds-C=+p", "--kinds-C++=+p", f"--languages={','.join(sorted(set(languages)))}", "-L", "-", "-f", "-"]


def memory_cap(limit_bytes: int) -> Callable[[], None]:
    """A preexec hook capping the child's address space, so a hostile input cannot exhaust memory."""
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))
    return apply


def file_list(paths: Sequence[str]) -> bytes:
    """The list ctags reads with -L: one './'-prefixed name a line, so no name is ever parsed as an option.

    Names with control characters never get here (the walk skips them), so a line is always one whole name.
    """
    return "".join(f"./{path}\n" for path in paths).encode()


_TAG_FIELDS = _TAG_TEXT + ("line", "end")


def _tags_by_arrow(output: bytes) -> Iterator[tuple[Any, ...]] | None:
    """Every line parsed at once by Arrow's JSON reader (far faster than json.loads a line), as tuples in
    _TAG_FIELDS order; None when any line is not clean JSON, so the careful line-by-line parse handles it."""
    import pyarrow as pa
    import pyarrow.json as pajson

    schema = pa.schema([(name, pa.string()) for name in _TAG_TEXT] + [("line", pa.int64()), ("end", pa.int64())])
    try:
        table = pajson.read_json(io.BytesIO(output), read_options=pajson.ReadOptions(block_size=1 << 24),
                                 parse_options=pajson.ParseOptions(explicit_schema=schema,
                                                                   unexpected_field_behavior="ignore"))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    return zip(*(table.column(name).to_pylist() for name in _TAG_FIELDS))


def _tags_by_line(output: bytes) -> Iterator[tuple[Any, ...]]:
    for raw in output.splitlines():
        try:
            tag = json.loads(raw)
        except ValueError:
            continue
        if isinstance(tag, dict):
            yield tuple(tag.get(name) for name in _TAG_FIELDS)


def parse_ctags_json(output: bytes, listed: set[str] | None = None) -> list[Definition]:
    """Definitions from ctags JSON lines, kinds mapped onto ForkLift's canonical kinds.

    With `listed`, a tag for any file not in that set is dropped: whatever ctags was tricked into reading, only
    files the walk vetted reach the index.
    """
    defs = []
    tags = (_tags_by_arrow(output) if output.strip() else None) or _tags_by_line(output)
    for kind_of_line, name, path, ctags_kind, scope, scope_kind, signature, access, line, end in tags:
        if kind_of_line != "tag" or not name:
            continue
        path = path or ""
        path = path[2:] if path.startswith("./") else path
        if listed is not None and path not in listed:
            continue
        spec = language_for(path)
        if spec is None:
            continue
        kind = spec.ctags_kinds.get(ctags_kind or "", ctags_kind or "")
        if not kind:
            continue
        defs.append(Definition(
            name=str(name), kind=kind, language=spec.name, path=path, line=int(line or 0), end_line=int(end or 0),
            scope=scope or "", scope_kind=spec.ctags_kinds.get(scope_kind or "", scope_kind or "") or "",
            signature=signature or "", access=access or "", extractor="ctags",
        ))
    return defs


def run_ctags(root: str, paths: Sequence[str], timeout_s: int, memory_mb: int) -> list[Definition]:
    """Definitions in the listed files from one ctags process (the ingest runs many such chunks in parallel)."""
    languages = {language_for(p).ctags_name for p in paths}  # type: ignore[union-attr]
    if languages & {"C", "C++"}:
        languages |= {"C", "C++"}  # ctags reads a .h as C++; both stay enabled so headers are never dropped
    try:
        proc = subprocess.run(ctags_argv(languages), cwd=root, input=file_list(paths), capture_output=True,
                              timeout=timeout_s, preexec_fn=memory_cap(memory_mb * 1024 * 1024))
    except subprocess.TimeoutExpired as exc:
        raise ToolError(f"ctags took longer than {timeout_s}s on a chunk of {len(paths)} files") from exc
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ToolError(f"ctags failed: {message[-1] if message else proc.returncode}")
    return parse_ctags_json(proc.stdout, set(paths))
