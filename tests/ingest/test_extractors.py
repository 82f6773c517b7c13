"""ctags and tree-sitter emit the same records for the same definitions; snippets, docs and edges are right."""

from __future__ import annotations

import shutil
import threading

import pytest

from forklift_core.config import IngestConfig
from forklift_core.ingest.ctags import ctags_version
from forklift_core.ingest.index import ingest
from forklift_core.ingest.languages import DEFINITION_KINDS
from forklift_core.ingest.tables import IndexReader
from tests.conftest import POLYGLOT

needs_ctags = pytest.mark.skipif(ctags_version() is None, reason="Universal Ctags is not installed")
TREE_SITTER_LANGUAGES = {"Python", "C", "C++", "JavaScript", "TypeScript", "Go", "Rust", "Java"}


def _definitions(workspace, project: str) -> set[tuple[str, str, str, int]]:
    rows = IndexReader(workspace.project(project)).symbols()
    return {(r["path"], r["name"], r["kind"], r["line"]) for r in rows if r["kind"] in DEFINITION_KINDS}


@needs_ctags
def test_ctags_and_tree_sitter_agree_on_definitions(workspace) -> None:
    ingest(str(POLYGLOT), "by-ctags", workspace, IngestConfig(extractor="ctags"))
    ingest(str(POLYGLOT), "by-ts", workspace, IngestConfig(extractor="tree-sitter"))
    by_ctags = _definitions(workspace, "by-ctags")
    by_ts = _definitions(workspace, "by-ts")
    assert by_ctags == by_ts
    languages = {r["language"] for r in IndexReader(workspace.project("by-ts")).symbols()}
    assert languages == TREE_SITTER_LANGUAGES
    # A sample from each language, so an empty agreement cannot pass.
    for expected in [("py/shapes/geometry.py", "area", "method", 20), ("c/stack.c", "stack_push", "function", 12),
                     ("cpp/queue.cpp", "Queue", "class", 6), ("js/greeter.js", "formatGreeting", "function", 12),
                     ("ts/store.ts", "ItemStore", "class", 7), ("go/server.go", "Start", "method", 16),
                     ("rust/src/lib.rs", "Movable", "trait", 12), ("java/com/example/Counter.java", "add", "method", 11)]:
        assert expected in by_ctags


@pytest.mark.parametrize("extractor", ["tree-sitter", pytest.param("ctags", marks=needs_ctags)])
def test_symbol_records_carry_evidence(workspace, extractor: str) -> None:
    ingest(str(POLYGLOT), "p", workspace, IngestConfig(extractor=extractor))
    reader = IndexReader(workspace.project("p"))
    (area,) = reader.symbols(name="area")
    assert (area["path"], area["line"], area["end_line"], area["scope"]) == ("py/shapes/geometry.py", 20, 22, "Circle")
    assert area["snippet"].splitlines()[0].strip() == "def area(self):"
    assert area["doc"] == "Return the area of the circle."
    assert area["extractor"] == extractor
    (length,) = reader.symbols(name="vector_length")
    assert length["doc"] == "Return the length of the vector (x, y)."  # docstring wins over the comment
    (push,) = reader.symbols(name="stack_push", kind="function")
    assert push["doc"] == "Push a value; returns 0 when the stack is full."  # C leading comment
    assert push["snippet"].rstrip().endswith("}")
    (point,) = reader.symbols(name="Point", kind="struct")
    assert point["doc"] == "A point on a grid."  # Rust doc comment


def test_references_link_callers_to_callees(workspace) -> None:
    ingest(str(POLYGLOT), "p", workspace, IngestConfig())
    reader = IndexReader(workspace.project("p"))
    callers = {(e["src_name"], e["path"], e["line"]) for e in reader.references("stack_pop")["callers"]}
    assert callers == {("stack_drain", "c/stack.c", 29)}
    assert ("describe", "go/server.go", 17) in {(e["dst_name"], e["path"], e["line"])
                                                for e in reader.references("Start")["callees"]}
    java = {(e["src_name"], e["line"]) for e in reader.references("add")["callers"] if e["path"].endswith(".java")}
    assert java == {("increment", 8)}
    rust = {e["src_name"] for e in reader.references("offset")["callers"]}
    assert rust == {"step"}
    python = {(e["src_name"], e["line"]) for e in reader.references("vector_length")["callers"]}
    assert python == {("total_area", 29)}


def test_reingest_is_idempotent(workspace) -> None:
    first = ingest(str(POLYGLOT), "p", workspace)
    ids_first = sorted(r["id"] for r in IndexReader(workspace.project("p")).symbols())
    second = ingest(str(POLYGLOT), "p", workspace)
    ids_second = sorted(r["id"] for r in IndexReader(workspace.project("p")).symbols())
    assert ids_first == ids_second
    assert (first["symbols"], first["references"]) == (second["symbols"], second["references"])


def test_two_ingests_of_one_tree_write_the_same_tables_row_for_row(workspace) -> None:
    # Row order matters: generation after a re-ingest rewrites only pairs whose facts changed.
    for project in ("one", "two"):
        ingest(str(POLYGLOT), project, workspace, IngestConfig(incremental=False))
    for table in ("symbols", "references", "raw_uses"):
        one, two = (IndexReader(workspace.project(p)).table(table) for p in ("one", "two"))
        assert one.num_rows > 0 and one.equals(two), table


def test_manifest_records_source_tools_and_counts(workspace, polyglot_repo) -> None:
    from tests.conftest import git

    summary = ingest(str(polyglot_repo), "p", workspace)
    manifest = workspace.project("p").read_manifest()
    assert manifest["commit"] == git(polyglot_repo, "rev-parse", "HEAD") == summary["commit"]
    assert manifest["source"]["kind"] == "path"
    assert manifest["symbols"] == summary["symbols"] > 40
    assert manifest["tools"]["tree_sitter_language_pack"]
    assert set(manifest["stage_seconds"]) >= {"walk", "definitions", "references", "store"}
    assert manifest["skipped"].get("vcs_dir") == 1
    for table in ("files", "symbols", "references", "build_facts"):
        assert workspace.project("p").table(table).is_file()


C_TREE = {
    "shapes.h": "typedef unsigned int u32;\nstruct point { u32 x; u32 y; };\nint point_norm(const struct point *p);\n",
    "shapes.c": """#include "shapes.h"

/* point_norm() is named here, not called */
static u32 square(u32 v)
{
    return v * v;
}

int point_norm(const struct point *p)
{
    const char *label = "square(p->x)";
    return square(p->x) + square(p->y);
}

struct ops { int (*norm)(const struct point *p); };

int use_ops(struct ops *o, struct point *p)
{
    u32 total = 0;
    total += o->norm(p);
    total += point_norm(p);
    return total;
}
""",
}


def test_the_lexical_scan_cscope_and_tree_sitter_find_the_same_c_references(workspace, tmp_path) -> None:
    from forklift_core.ingest.cscope import cscope_available

    if not cscope_available():
        pytest.skip("cscope is not installed")
    for name, text in C_TREE.items():
        (tmp_path / name).write_text(text)
    # Old C holds Latin-1 bytes in comments and strings: no reader trips on them.
    (tmp_path / "legacy.c").write_bytes(b'/* caf\xe9 */\nint legacy(void)\n{\n    return pick("\xe9t\xe9",\n'
                                        b'                "\xe9t\xe9", square(2));\n}\n')
    by_scan = ingest(str(tmp_path), "lx", workspace, IngestConfig(c_references="lexical"))
    by_cscope = ingest(str(tmp_path), "cs", workspace, IngestConfig(c_references="cscope"))
    by_tree_sitter = ingest(str(tmp_path), "ts", workspace, IngestConfig(c_references="tree-sitter"))
    assert [summary["c_references_from"] for summary in (by_scan, by_cscope, by_tree_sitter)] == [
        "lexical", "cscope", "tree-sitter"]

    def edges(project: str, kind: str) -> set[tuple[str, str, str, int]]:
        rows = IndexReader(workspace.project(project)).table("references").to_pylist()
        return {(r["src_name"], r["dst_name"], r["path"], r["line"]) for r in rows if r["kind"] == kind}

    calls = edges("cs", "call")
    assert calls == edges("ts", "call") == edges("lx", "call") == {("point_norm", "square", "shapes.c", 12),
                                            ("use_ops", "point_norm", "shapes.c", 21),
                                            ("legacy", "square", "legacy.c", 5)}
    uses = edges("cs", "use")
    assert uses == edges("ts", "use") == edges("lx", "use")  # the comment, the string, `o->norm` are no edges
    assert {("square", "u32", "shapes.c", 4), ("point_norm", "point", "shapes.c", 9),
            ("use_ops", "ops", "shapes.c", 17), ("use_ops", "u32", "shapes.c", 19)} <= uses


PYTHON_TRICKS = '''"""Module doc: helper(1) is named here, not called."""
import re


def helper(value):
    return value  # helper(2) in a comment


class Shape(Base):
    @cached(size=1)
    def area(side):
        return helper(side) * side


def report(shape, items):
    label = "helper(3)" + 'helper(4)' + r"helper(5)"
    text = f"{helper(6)} {{helper(7)}} {', '.join(str(i) for i in items)} {len({'k': helper(8)})}"
    if (shape):
        return Shape.area \\
            (2)
    nested = f"{f'{helper(9)}'}"
    return re.match(label, text) or print(nested)


def classify(point):
    match point:
        case Shape(side=0) if helper(point):
            return Shape.area(1)
        case (first, second):
            return match(first, second)
'''


@needs_ctags
def test_the_python_call_scan_finds_what_tree_sitter_finds(workspace, tmp_path) -> None:
    (tmp_path / "tricks.py").write_text(PYTHON_TRICKS)
    by_scan = ingest(str(tmp_path), "scan", workspace, IngestConfig(python_references="lexical"))
    by_tree_sitter = ingest(str(tmp_path), "ts", workspace, IngestConfig(python_references="tree-sitter"))
    assert (by_scan["python_references_from"], by_tree_sitter["python_references_from"]) == ("lexical", "tree-sitter")

    def uses(project: str) -> list[tuple[int, str]]:
        rows = IndexReader(workspace.project(project)).table("raw_uses").to_pylist()
        return sorted((r["line"], r["name"]) for r in rows)

    # Strings, comments, doubled braces, keywords, def/class names and match statements' soft keywords and
    # patterns are no calls; replacement fields (nested ones too), attribute calls, decorators, a case guard and a
    # call continued over a backslash are.
    expected = [(10, "cached"), (12, "helper"), (17, "helper"), (17, "join"), (17, "len"), (17, "helper"),
                (17, "str"), (19, "area"), (21, "helper"), (22, "match"), (22, "print"),
                (27, "helper"), (28, "area"), (30, "match")]  # a case line's class pattern is no call; its guard is
    assert uses("scan") == uses("ts") == sorted(expected)


def test_python_references_must_be_a_known_source() -> None:
    from forklift_core.errors import BadInputError

    with pytest.raises(BadInputError, match="python_references"):
        IngestConfig(python_references="regex")


def test_a_cscope_database_parsed_in_pieces_equals_it_parsed_whole(tmp_path) -> None:
    import subprocess

    import pyarrow as pa

    from forklift_core.ingest.cscope import _file_pieces, cscope_available, parse_cross_reference

    if not cscope_available():
        pytest.skip("cscope is not installed")
    for name, text in C_TREE.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "files").write_text("\n".join(sorted(C_TREE)) + "\n")
    subprocess.run(["cscope", "-b", "-c", "-k", "-i", "files", "-f", "cscope.out"], cwd=tmp_path, check=True)
    database = (tmp_path / "cscope.out").read_bytes()
    pieces = list(_file_pieces(database, target=1))  # every file's section a piece of its own
    assert len(pieces) >= len(C_TREE) and b"".join(pieces) == database
    whole = parse_cross_reference(database, {"u32"})
    parts = pa.concat_tables([parse_cross_reference(piece, {"u32"}) for piece in pieces])
    assert whole.num_rows > 5
    assert [tuple(r.values()) for r in parts.to_pylist()] == [tuple(r.values()) for r in whole.to_pylist()]


def test_no_reference_resolves_across_unrelated_languages(workspace) -> None:
    from forklift_core.ingest.languages import language_for
    from forklift_core.ingest.refs import language_family

    ingest(str(POLYGLOT), "p", workspace)
    reader = IndexReader(workspace.project("p"))
    for edge in reader.table("references").to_pylist():
        if edge["dst_id"]:
            target = reader.symbol(edge["dst_id"])
            assert language_family(language_for(edge["path"]).name) == language_family(target["language"]), edge
    # `this.items.push(item)` in TypeScript is not C++'s Queue::push.
    assert all(c["path"].startswith("cpp/") for c in reader.references("push")["callers"])


@pytest.mark.parametrize("extractor", ["ctags", "tree-sitter"])
def test_worker_processes_and_the_inline_path_build_the_same_index(workspace, monkeypatch, extractor: str) -> None:
    import forklift_core.ingest.extraction as extraction
    from forklift_core.ingest.workers import make_pool

    if extractor == "ctags" and not ctags_version():
        pytest.skip("Universal Ctags is not installed")
    config = IngestConfig(shards=2, extractor=extractor, incremental=False)
    inline = ingest(str(POLYGLOT), "inline", workspace, config)
    monkeypatch.setattr(extraction, "INLINE_BYTES", 0)  # a tiny tree through the worker pool, as a big one goes
    monkeypatch.setattr(extraction, "CTAGS_CHUNK_BYTES", 600)  # and in many ctags chunks
    pools, handed = [], []
    monkeypatch.setattr(extraction, "make_pool", lambda workers: pools.append(workers) or make_pool(workers))
    take = extraction.WarmPool.take
    def counted_take(self):  # noqa: ANN001, ANN202 - records how many chunk futures the extraction took over
        given = take(self)
        handed.append(len(given[2]))
        return given

    monkeypatch.setattr(extraction.WarmPool, "take", counted_take)
    pooled = ingest(str(POLYGLOT), "pooled", workspace, config)
    assert pooled["symbols"] == inline["symbols"] > 40 and pooled["references"] == inline["references"] > 0
    assert pools == [2]  # the workers started during the walk are the ones the extraction used
    # With ctags, the chunks filled during the walk were in the workers' hands when the extraction took them over.
    assert handed[0] >= 3 if extractor == "ctags" else handed == [0]

    def rows(project: str, table: str) -> list[dict]:
        found = IndexReader(workspace.project(project)).table(table).to_pylist()
        return sorted(found, key=lambda r: sorted((k, str(v)) for k, v in r.items()))

    for table in ("symbols", "references", "raw_uses"):
        assert rows("pooled", table) == rows("inline", table), table


def test_the_walk_goes_on_while_the_workers_start(monkeypatch, tmp_path) -> None:
    """A worker's start waits for the fork server's imports: the walk hands on its files meanwhile, and the chunks
    it filled reach the workers once they are up."""
    import forklift_core.ingest.extraction as extraction
    from forklift_core.ingest.walk import walk_tree
    from forklift_core.progress import Progress

    if not ctags_version():
        pytest.skip("Universal Ctags is not installed")
    asked, release = threading.Event(), threading.Event()
    make_pool = extraction.make_pool

    def slow_start(workers: int):  # the fork server still importing
        asked.set()
        release.wait(60)
        return make_pool(workers)

    monkeypatch.setattr(extraction, "make_pool", slow_start)
    monkeypatch.setattr(extraction, "INLINE_BYTES", 0)
    monkeypatch.setattr(extraction, "CTAGS_CHUNK_BYTES", 600)
    config = IngestConfig(shards=2)
    with extraction.WarmPool(config, POLYGLOT, tmp_path, "ctags") as warm:
        for record in walk_tree(POLYGLOT, config, Progress()).files:
            warm.see(record)  # returns at once, though the workers are not up
        assert asked.wait(60) and warm.pool is None and not warm.futures and len(warm.chunks) >= 3
        release.set()
        pool, chunks, futures = warm.take()
        try:
            assert pool is not None and chunks == warm.chunks and len(futures) == len(chunks)
            outlines = [future.result()[0] for future in futures]
            walked = {path for chunk in chunks for path in chunk}
            assert walked >= set().union(*(outline["path"].to_pylist() for outline in outlines))
            assert sum(o.num_rows for o in outlines) > 40
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


# Lines as ctags counts them (by newline): a form feed or a lone CR inside a line does not start a new one.
ODD_LINES = {
    "feed.c": b"/* page one */\n\x0c\n/* Adds one. \x0c still a comment */\nint inc(int x)\n{\n    return x + 1;\n}\n"
              b"\n\n\nint dec(int x) { return x - 1; }",  # no newline at the end
    "crlf.py": b"# The answer.\r\n@staticmethod\r\ndef answer():\r\n    return 42\r\n\r\n\r\n"
               b"class Box:\r\n    \"\"\"Holds one thing.\"\"\"\r\n    pass\r\n",
    "long.c": b"int long_one(void)\n{\n" + b"    step();\n" * 80 + b"}\n",
}


@pytest.mark.parametrize("extractor", ["tree-sitter", pytest.param("ctags", marks=needs_ctags)])
def test_snippets_and_docs_follow_the_extractors_line_numbers(workspace, tmp_path, extractor: str) -> None:
    for name, data in ODD_LINES.items():
        (tmp_path / name).write_bytes(data)
    ingest(str(tmp_path), "odd", workspace, IngestConfig(extractor=extractor, snippet_max_lines=60))
    reader = IndexReader(workspace.project("odd"))
    (inc,) = reader.symbols(name="inc", kind="function")
    assert (inc["line"], inc["end_line"]) == (4, 7)
    assert inc["snippet"] == "int inc(int x)\n{\n    return x + 1;\n}"
    assert inc["doc"] == "Adds one. \x0c still a comment"
    (dec,) = reader.symbols(name="dec", kind="function")
    assert (dec["line"], dec["snippet"]) == (11, "int dec(int x) { return x - 1; }")
    (answer,) = reader.symbols(name="answer")
    assert answer["snippet"] == "def answer():\n    return 42"  # CRLF as LF, trailing blank lines dropped
    assert answer["doc"] == "The answer."  # the comment above the decorator
    (box,) = reader.symbols(name="Box")
    assert box["doc"] == "Holds one thing."
    (long_one,) = reader.symbols(name="long_one", kind="function")
    shown = long_one["snippet"].split("\n")
    assert len(shown) == 61 and shown[0] == "int long_one(void)" and shown[-1] == "…"


@pytest.mark.parametrize("source", ["lexical", "cscope"])
def test_calls_in_a_macro_body_have_the_macro_as_caller(workspace, tmp_path, source: str) -> None:
    from forklift_core.ingest.cscope import cscope_available

    if not cscope_available() or not ctags_version():
        pytest.skip("cscope and Universal Ctags are needed")
    (tmp_path / "twice.c").write_text("int helper(int x) { return x; }\n#define TWICE(x) \\\n    (helper(x) + \\\n"
                                      "     helper(x))\nint use(void) { return TWICE(2); }\n")
    ingest(str(tmp_path), "macros", workspace, IngestConfig(c_references=source))
    reader = IndexReader(workspace.project("macros"))
    callers = {(c["src_name"], c["line"]) for c in reader.references("helper")["callers"]}
    assert callers == {("TWICE", 3), ("TWICE", 4)}  # not file-level calls
    assert {(c["dst_name"], c["line"]) for c in reader.references("use")["callees"]} == {("TWICE", 5)}


def test_references_resolved_in_small_batches_on_threads_equal_one_batch(workspace, monkeypatch, tmp_path) -> None:
    import forklift_core.ingest.index as index

    shutil.copytree(POLYGLOT, tmp_path / "tree")
    # Repeats on one line are one edge: a batch cut inside this file would keep them twice.
    (tmp_path / "tree" / "repeats.py").write_text("def f():\n    pass\n\n\ndef g():\n    f(); f(); f()\n    f()\n")
    ingest(str(tmp_path / "tree"), "whole", workspace, IngestConfig(incremental=False, shards=1))
    monkeypatch.setattr(index, "RESOLVE_BATCH_ROWS", 2)  # a batch is cut only where one file's uses end
    resolving: set[str] = set()
    resolve = index.Resolver.resolve
    monkeypatch.setattr(index.Resolver, "resolve",
                        lambda self, batch: resolving.add(threading.current_thread().name) or resolve(self, batch))
    # Three resolving threads: the batches are resolved at once and written in their order.
    ingest(str(tmp_path / "tree"), "batched", workspace, IngestConfig(incremental=False, shards=3))
    assert len(resolving) == 3
    whole, batched = (IndexReader(workspace.project(p)).table("references") for p in ("whole", "batched"))
    assert whole.num_rows > 20 and batched.equals(whole)
    assert [(r["src_name"], r["line"]) for r in whole.to_pylist() if r["dst_name"] == "f"] == [("g", 6), ("g", 7)]


def test_ctags_tab_separated_output_reads_as_its_json_does_and_falls_back_on_a_tab_in_a_field(tmp_path) -> None:
    from forklift_core.ingest import ctags

    if not ctags_version():
        pytest.skip("Universal Ctags is not installed")
    paths = sorted(str(p.relative_to(POLYGLOT)) for p in POLYGLOT.rglob("*") if p.is_file() and p.suffix != ".md")
    languages = {ctags.language_for(p).ctags_name for p in paths if ctags.language_for(p)}
    listed = [p for p in paths if ctags.language_for(p)]

    def as_json(root: str, files: list[str]):
        return ctags.parse_ctags_json(ctags._ctags_output(root, files, ctags.ctags_argv(languages, tsv=False), 60, 2048),
                                      set(files))

    tsv = ctags._tags_by_tsv(ctags._ctags_output(str(POLYGLOT), listed, ctags.ctags_argv(languages), 60, 2048))
    assert tsv is not None and tsv.num_rows > 40
    assert ctags.definitions_from_tags(tsv, set(listed)).equals(as_json(str(POLYGLOT), listed))
    # ctags escapes a tab inside a signature: the chunk is read again as JSON, nothing lost or misread.
    (tmp_path / "tabbed.py").write_text('def tabbed(x="a\tb", y=1):\n    return x\n\n\nclass After:\n    pass\n')
    tabbed = ctags._ctags_output(str(tmp_path), ["tabbed.py"], ctags.ctags_argv({"Python"}), 60, 2048)
    assert ctags._tags_by_tsv(tabbed) is None
    found = ctags.run_ctags(str(tmp_path), ["tabbed.py"], 60, 2048)
    assert found.equals(as_json(str(tmp_path), ["tabbed.py"]))
    assert found.to_pylist()[0]["signature"] == '(x="a\tb", y=1)' and found["name"].to_pylist() == ["tabbed", "After"]
