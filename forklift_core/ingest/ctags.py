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
import pyarrow.csv as pacsv
import pyarrow.json as pajson

from forklift_core.errors import ToolError
from forklift_core.ingest.definitions import DEFINITION_SCHEMA, canonical_kinds, map_distinct
from forklift_core.ingest.languages import language_for, language_named

# Line, long kind, signature, end, access, scope, scope kind on; the source line (pattern), file-scope flag, typeref
# and language off: nothing reads them, and printing the pattern alone is a fifth of ctags' time on a C tree.
CTAGS_FIELDS = "+nKzSeaZp-Pftl"
_TAG_TEXT = ("_type", "name", "path", "kind", "scope", "scopeKind", "signature", "access")  # what the index keeps
# The same fields as tab-separated lines (ctags' xref output with a format of its own): a fifth less of ctags' time
# than JSON, and a quarter of Arrow's time to read. ctags escapes a tab, a line break or a backslash inside a field
# with a backslash (neither the kernel's nor transformers' tags hold one): a chunk whose output holds a backslash, or
# a line of the wrong width, is read again as JSON, whose escapes are standard.
_TSV_FIELDS = ("name", "input", "kind", "line", "end", "scope", "scopeKind", "signature", "access")
_TSV_COLUMNS = ("name", "path", "kind", "line", "end", "scope", "scopeKind", "signature", "access")


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


def output_options(tsv: bool = True) -> list[str]:
    """ctags' options for tab-separated lines of the fields ForkLift reads, or for JSON."""
    if not tsv:
        return ["--output-format=json"]
    return ["--output-format=xref", "--_xformat=" + "\t".join(f"%{{{name}}}" for name in _TSV_FIELDS)]


def ctags_argv(languages: Sequence[str], tsv: bool = True) -> list[str]:
    """The fixed argument list: no option files (a repo's .ctags.d is ignored), files from stdin, tab-separated
    lines (`tsv`) or JSON.

    C/C++ prototypes are on: a header declaration is a fact in itself and a realistic wrong answer later.
    """
    return ["ctags", "--options=NONE", *output_options(tsv), f"--fields={CTAGS_FIELDS}", "--extras=-p",
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


def _tags_by_tsv(output: bytes) -> pa.Table | None:
    """The tab-separated lines read by Arrow's CSV reader, as _TAG_SCHEMA columns; None when a field holds an
    escape, a line is not of the fields asked for, or a number is not one."""
    if not output.strip():
        return _TAG_SCHEMA.empty_table()
    if b"\\" in output:
        return None
    try:
        read = pacsv.read_csv(io.BytesIO(output), read_options=pacsv.ReadOptions(column_names=_TSV_COLUMNS,
                                                                                block_size=1 << 24),
                              parse_options=pacsv.ParseOptions(delimiter="\t", quote_char=False, escape_char=False,
                                                               double_quote=False),
                              convert_options=pacsv.ConvertOptions(
                                  column_types={name: pa.string() for name in _TSV_COLUMNS},
                                  strings_can_be_null=False, quoted_strings_can_be_null=False))
        columns = {"_type": pa.array(["tag"] * read.num_rows, pa.string())}
        for name in _TAG_SCHEMA.names[1:]:
            column = read[name]
            absent = pc.equal(column, "-")  # ctags' mark for a field a tag does not have (a number may be empty)
            if name in ("line", "end"):
                absent = pc.or_(absent, pc.equal(column, ""))
                columns[name] = pc.cast(pc.if_else(absent, pa.scalar(None, pa.string()), column), pa.int64())
            elif name in ("signature", "access"):
                columns[name] = pc.if_else(absent, pa.scalar(None, pa.string()), column)
            else:
                columns[name] = column
        return pa.table(columns, schema=_TAG_SCHEMA)
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
    """Definitions (DEFINITION_SCHEMA) from ctags JSON lines, kinds mapped onto ForkLift's canonical kinds."""
    return definitions_from_tags((_tags_by_arrow(output) if output.strip() else None) or _tags_by_line(output), listed)


def definitions_from_tags(tags: pa.Table, listed: set[str] | None = None) -> pa.Table:
    """Definitions (DEFINITION_SCHEMA) from ctags' tags (_TAG_SCHEMA), kinds mapped onto ForkLift's canonical kinds.

    With `listed`, a tag for any file not in that set is dropped: whatever ctags was tricked into reading, only
    files the walk vetted reach the index. Done on columns: a chunk holds tens of thousands of tags and a few
    hundred files, so each file's language and each kind is looked up once.
    """
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
    tags = _tags_by_tsv(_ctags_output(root, paths, ctags_argv(languages), timeout_s, memory_mb))
    if tags is None:  # a field held an escaped character, or broke a line
        return parse_ctags_json(_ctags_output(root, paths, ctags_argv(languages, tsv=False), timeout_s, memory_mb),
                                set(paths))
    return definitions_from_tags(tags, set(paths))


def _ctags_output(root: str, paths: Sequence[str], argv: list[str], timeout_s: int, memory_mb: int) -> bytes:
    """What one ctags process prints for the listed files; a clear error when it fails or runs too long."""
    try:
        returncode, stdout, stderr = _run_capped(argv, root, file_list(paths), timeout_s, memory_mb * 1024 * 1024)
    except subprocess.TimeoutExpired as exc:
        raise ToolError(f"ctags took longer than {timeout_s}s on a chunk of {len(paths)} files") from exc
    if returncode != 0:
        message = stderr.decode("utf-8", "replace").strip().splitlines()
        raise ToolError(f"ctags failed: {message[-1] if message else returncode}")
    return stdout


def _run_capped(argv: list[str], cwd: str, names: bytes, timeout_s: int, limit_bytes: int) -> tuple[int, bytes, bytes]:
    """(exit code, output, errors) of a tool that reads the names of the files it is to read from stdin, its
    address space capped before it reads the first name.

    Capped from here (prlimit) rather than by a hook run in the child: with no hook, Python starts the tool with
    vfork instead of copying a worker's page tables, and the tool reads nothing it was not told to before the
    names arrive on stdin, so nothing runs uncapped. Where prlimit is refused, the hook does it.
    """
    with subprocess.Popen(argv, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as proc:
        try:
            resource.prlimit(proc.pid, resource.RLIMIT_AS, (limit_bytes, limit_bytes))
        except OSError:
            proc.kill()
            proc.communicate()
            done = subprocess.run(argv, cwd=cwd, input=names, capture_output=True, timeout=timeout_s,
                                  preexec_fn=memory_cap(limit_bytes))
            return done.returncode, done.stdout, done.stderr
        try:
            stdout, stderr = proc.communicate(names, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise
        return proc.returncode, stdout, stderr
