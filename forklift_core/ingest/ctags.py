"""Universal Ctags as the primary extractor: JSON output, explicit file lists, parallel shards."""

from __future__ import annotations

import io
import json
import resource
import shutil
import subprocess
from functools import lru_cache
from typing import Any, Callable, Sequence

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson

from forklift_core.errors import ToolError
from forklift_core.ingest.definitions import DEFINITION_SCHEMA, canonical_kinds, map_distinct
from forklift_core.ingest.languages import language_for, language_named

# Line, long kind, signature, end, access, scope, scope kind on; the source line (pattern), file-scope flag, typeref
# and language off: nothing reads them, and printing the pattern alone is a fifth of ctags' time on a C tree.
CTAGS_FIELDS = "+nKzSeaZp-Pftl"
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


_TAG_SCHEMA = pa.schema([(name, pa.string()) for name in _TAG_TEXT] + [("line", pa.int64()), ("end", pa.int64())])


def _tags_by_arrow(output: bytes) -> pa.Table | None:
    """Every line parsed at once by Arrow's JSON reader (far faster than json.loads a line); None when any line
    is not clean JSON, so the careful line-by-line parse handles it."""
    try:
        return pajson.read_json(io.BytesIO(output), read_options=pajson.ReadOptions(block_size=1 << 24),
                                parse_options=pajson.ParseOptions(explicit_schema=_TAG_SCHEMA,
                                                                  unexpected_field_behavior="ignore"))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None


def _tags_by_line(output: bytes) -> pa.Table:
    rows = []
    for raw in output.splitlines():
        try:
            tag = json.loads(raw)
        except ValueError:
            continue
        if isinstance(tag, dict):
            rows.append(tag)
    columns = {name: [_field(row.get(name), field.type) for row in rows]
               for name, field in zip(_TAG_SCHEMA.names, _TAG_SCHEMA)}
    return pa.table(columns, schema=_TAG_SCHEMA)


def _field(value: Any, arrow_type: pa.DataType) -> Any:
    """One JSON value as its column's type (None when it is something else: a hostile tag loses the field)."""
    if arrow_type == pa.int64():
        return value if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 1 << 62 else None
    return value if isinstance(value, str) else None


def _text(table: pa.Table, name: str) -> pa.Array:
    return pc.fill_null(table[name].combine_chunks(), "")


def parse_ctags_json(output: bytes, listed: set[str] | None = None) -> pa.Table:
    """Definitions (DEFINITION_SCHEMA) from ctags JSON lines, kinds mapped onto ForkLift's canonical kinds.

    With `listed`, a tag for any file not in that set is dropped: whatever ctags was tricked into reading, only
    files the walk vetted reach the index. Done on columns: a chunk holds tens of thousands of tags and a few
    hundred files, so each file's language and each kind is looked up once.
    """
    tags = (_tags_by_arrow(output) if output.strip() else None) or _tags_by_line(output)
    keep = pc.and_(pc.equal(_text(tags, "_type"), "tag"), pc.not_equal(_text(tags, "name"), ""))
    tags = tags.filter(keep)
    path = _text(tags, "path")
    path = pc.if_else(pc.starts_with(path, "./"), pc.utf8_slice_codeunits(path, 2), path)
    if listed is not None:
        vetted = pc.is_in(path, pa.array(sorted(listed), pa.string()))
        tags, path = tags.filter(vetted), path.filter(vetted)
    language = map_distinct(path, lambda p: spec.name if (spec := language_for(p)) else "")
    kind = map_distinct(pc.binary_join_element_wise(language, _text(tags, "kind"), "\x1f"), _mapped_kind)
    scope_kind = map_distinct(pc.binary_join_element_wise(language, _text(tags, "scopeKind"), "\x1f"), _mapped_kind)
    known = pc.and_(pc.not_equal(language, ""), pc.not_equal(kind, ""))
    rows = {
        "name": _text(tags, "name"), "kind": canonical_kinds(kind, scope_kind), "language": language, "path": path,
        "line": pc.fill_null(tags["line"].combine_chunks(), 0), "end_line": pc.fill_null(tags["end"].combine_chunks(), 0),
        "scope": _text(tags, "scope"), "scope_kind": scope_kind, "signature": _text(tags, "signature"),
        "access": _text(tags, "access"), "extractor": pa.array(["ctags"] * tags.num_rows, pa.string()),
    }
    return pa.table(rows, schema=DEFINITION_SCHEMA).filter(known)


def _mapped_kind(language_and_kind: str) -> str:
    """A ctags kind (of a language) as ForkLift's canonical kind; '' drops the tag."""
    language, kind = language_and_kind.split("\x1f", 1)
    if not language or not kind:
        return ""
    return language_named(language).ctags_kinds.get(kind, kind) or ""


def run_ctags(root: str, paths: Sequence[str], timeout_s: int, memory_mb: int) -> pa.Table:
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
