"""The native helpers: the C scan (which names it reports as calls and type uses, on the C that trips lexers) and
caller spans."""

from __future__ import annotations

import pyarrow.compute as pc
import pytest

from forklift_core.ingest.clexical import c_lexical_uses
from forklift_core.ingest.native import native_available

TRICKY_C = rb'''#include <linux/not_a_call(x).h>
#define MAX(a, b) ((a) > (b) ? pick(a) : (b))
#error don't read( this )
typedef unsigned long pte_t;
/* in_comment(1);
   still_comment(2); */
static int foo(struct page *p, pte_t v) // trailing( comment
{
	char *s = "in_string(1)"; char c = '('; const wchar_t *w = L"wide(1)";
	p->field_call(1); p.other(2); p -> spaced (3);
	if (bar(v) && sizeof(pte_t)) return baz (0x1e+5, 1.5e-3f, 07);
	u32 (*fnptr)(int) = 0; pte_t (*table)[4]; enum color (*pick_color)(void);
	long_macro_call(a, \
		b);
	return after_continuation(1);
}
int unterminated = 'x;
int next_line(void) { return last(1); }
'''


def _uses(tmp_path, text: bytes, types: set[str]) -> list[tuple[int, str, str]]:
    (tmp_path / "tricky.c").write_bytes(text)
    table = c_lexical_uses(str(tmp_path), ["tricky.c"], types)
    return [(row["line"], row["name"], row["kind"]) for row in table.to_pylist()]


def test_the_scan_reports_calls_and_type_uses_outside_comments_strings_and_directives(tmp_path) -> None:
    if not native_available():
        pytest.fail("the native scanner is not built: `pip install -e .` builds it")
    found = _uses(tmp_path, TRICKY_C, {"pte_t", "u32"})
    assert found == [
        (2, "pick", "call"),  # a macro body is code; the macro's own name is not a use
        (4, "pte_t", "use"),  # at its definition: the resolver drops it there
        (7, "foo", "call"), (7, "page", "use"), (7, "pte_t", "use"),
        (11, "bar", "call"), (11, "pte_t", "use"), (11, "baz", "call"),
        (12, "u32", "use"), (12, "pte_t", "use"), (12, "color", "use"),  # declarators, not calls
        (13, "long_macro_call", "call"),
        (15, "after_continuation", "call"),  # line numbers count the continued line
        (18, "next_line", "call"), (18, "last", "call"),  # a quote left open ends with its line
    ]


def test_files_are_scanned_apart_and_keep_their_own_lines(tmp_path) -> None:
    (tmp_path / "a.c").write_bytes(b"/* never closed\nint f(void);\n")
    (tmp_path / "b.c").write_bytes(b"int g(void)\n{\n\treturn h(1);\n}\n")
    table = c_lexical_uses(str(tmp_path), ["a.c", "gone.c", "b.c"], set())
    # A comment left open ends with its file; a file gone since the walk has no uses.
    assert [(r["path"], r["line"], r["name"]) for r in table.to_pylist()] == [("b.c", 1, "g"), ("b.c", 3, "h")]


def test_hostile_bytes_neither_crash_nor_leak_names(tmp_path) -> None:
    text = b"\x00\xff\xfe int \x80x(1); ((((" * 1000 + b"\"" + b"a(" * 10000
    found = _uses(tmp_path, text, set())
    assert found and all(name == "x" for _, name, _ in found)


def test_native_caller_spans_nest_as_the_python_walk_does(monkeypatch) -> None:
    import numpy as np

    from forklift_core.ingest import refs

    rng = np.random.default_rng(7)
    files = rng.integers(0, 40, 5000)
    starts = rng.integers(1, 400, 5000)
    order = np.lexsort((starts, files))
    files, starts = files[order], starts[order]
    ends = starts + rng.integers(0, 60, 5000)
    by_native = refs._parents(starts, ends, files)
    monkeypatch.setattr(refs, "native", None)
    by_python = refs._parents(starts, ends, files)
    assert (by_native == by_python).all() and (by_native >= 0).sum() > 1000
    # Every parent is an earlier span of the same file that holds the span's start.
    held = by_native >= 0
    parent = by_native[held]
    assert (parent < np.flatnonzero(held)).all() and (files[parent] == files[held]).all()
    assert (starts[parent] <= starts[held]).all() and (ends[parent] >= starts[held]).all()


def test_the_native_python_scan_finds_exactly_what_the_python_scan_finds(tmp_path, monkeypatch) -> None:
    import shutil
    from pathlib import Path

    from forklift_core.ingest import pycalls
    from tests.ingest.test_extractors import PYTHON_TRICKS

    if not native_available():
        pytest.fail("the native helpers are not built: `pip install -e .` builds them")
    # ForkLift's own source, the tricky file, and what a hostile or broken file holds: strings left open, f-strings
    # nested past the depth read, CRLF match statements, bytes that are not UTF-8 in names.
    shutil.copytree(Path(pycalls.__file__).parents[1], tmp_path / "own", ignore=shutil.ignore_patterns("*.so"))
    (tmp_path / "tricks.py").write_text(PYTHON_TRICKS)
    nested = "x = " + "f'{" * 12 + "g(1)" + "}'" * 12 + "\n"
    (tmp_path / "odd.py").write_bytes(nested.encode() + b"s = 'open(1)\nt = '''never(2)\n")
    (tmp_path / "crlf.py").write_bytes(b"match p:\r\n    case K(x=1) if ok(x):\r\n        f\xe9(2)\\\r\n  (3)\r\n"
                                       b"caf\xc3\xa9(4); lambda: y(5) # z(6)\r\n\"\"\"a\\\"\"\"(7)")
    paths = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.py"))
    by_native = pycalls.python_uses(str(tmp_path), paths)
    monkeypatch.setattr(pycalls, "native", None)
    by_python = pycalls.python_uses(str(tmp_path), paths)
    assert by_native.num_rows > 3000
    assert by_native.to_pylist() == by_python.to_pylist()


def test_native_docstrings_and_comments_are_the_python_ones(tmp_path, monkeypatch) -> None:
    import shutil
    from pathlib import Path

    from forklift_core.config import IngestConfig
    from forklift_core.ingest import enrich
    from forklift_core.ingest.ctags import ctags_version, run_ctags

    if not ctags_version():
        pytest.skip("Universal Ctags is not installed")
    shutil.copytree(Path(enrich.__file__).parents[1], tmp_path / "own", ignore=shutil.ignore_patterns("*.so"))
    # Docstrings that end on their line, run over lines, carry prefixes, sit after a signature over lines, are
    # padded with Unicode spaces, hold bytes that are not UTF-8, or never close.
    (tmp_path / "docs.py").write_bytes(
        'def one():\n    """One line."""\n\n\ndef two(a,\n        b):\n\n    r\'\'\'First\n      second\n\n'
        '    \'\'\' + x\n\n\nclass Three:\n    \u00a0"""\u2003 padded \u3000"""\n\n\n'
        'def four():\n    b"""caf\xe9"""\n\n\ndef five():\n    x = 1\n\n\ndef six():\n    """never closed\n'
        '    goes on\n'.encode("utf-8").replace(b"caf\xc3\xa9", b"caf\xe9"))
    # Comments above C definitions: block and line comments, closing markers, blank comment lines, Latin-1 bytes.
    (tmp_path / "comments.c").write_bytes(
        b"/* Adds one.\n * Carefully. */\nint inc(int x) { return x + 1; }\n\n// caf\xe9 \xc2\xa0\n//\n"
        b"// twice */\nint dec(int x) { return x - 1; }\n/**\n */\nint none(void) { return 0; }\n")
    paths = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.suffix in (".py", ".c", ".h"))
    defs = run_ctags(str(tmp_path), paths, 60, 2048)
    by_native = enrich.enrich(tmp_path, defs, IngestConfig())
    monkeypatch.setattr(enrich, "native", None)
    by_python = enrich.enrich(tmp_path, defs, IngestConfig())
    assert by_native["doc"].to_pylist() == by_python["doc"].to_pylist()
    docs = {row["name"]: row["doc"] for row in by_native.filter(pc.equal(by_native["path"], "docs.py")).to_pylist()}
    assert docs == {"one": "One line.", "two": "First\nsecond", "Three": "padded", "four": "caf\ufffd", "five": "",
                    "six": "never closed\ngoes on"}
    comments = {row["name"]: row["doc"] for row in by_native.filter(pc.equal(by_native["path"], "comments.c")).to_pylist()}
    assert comments == {"inc": "Adds one.\nCarefully.", "dec": "caf\ufffd\ntwice", "none": ""}
    assert sum(1 for doc in by_native["doc"].to_pylist() if doc) > 300  # ForkLift's own docstrings


def test_native_first_text_is_the_numpy_one(monkeypatch) -> None:
    import numpy as np

    from forklift_core.ingest import enrich

    lines = [b"", b"   ", b"\tx = 1", b" " * 40 + b"deep", b"\x1c\x1f y", b"\xc2\xa0z", b"\r", b"end"]
    data = b"\n".join(lines) + b"\n"
    buffer = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(buffer == 10)
    starts = np.concatenate([[0], ends[:-1] + 1])
    by_native = enrich._first_text(buffer, starts, ends)
    monkeypatch.setattr(enrich, "native", None)
    by_numpy = enrich._first_text(buffer, starts, ends, steps=4)  # the deep line takes the slow path
    assert by_native.tolist() == by_numpy.tolist()
    assert [data[at:at + 1] for at in by_native.tolist()] == [b"\n", b"\n", b"x", b"d", b"y", b"\xc2", b"\n", b"e"]


def test_native_symbol_ids_are_the_hashlib_ones(monkeypatch) -> None:
    import hashlib
    import random

    import pyarrow as pa

    from forklift_core import records
    from forklift_core.ingest import native

    rng = random.Random(7)
    # Keys of every length around SHA-1's block and padding bounds (55, 56, 63, 64 bytes ...), and non-ASCII names.
    paths = ["p" * rng.randint(0, 150) for _ in range(400)] + ["src/caf\u00e9.py", ""]
    lines = [rng.randint(0, 10**9) for _ in paths]
    names = [rng.choice(["f", "\u540d\u524d", "x" * 70]) for _ in paths]
    kinds = ["function"] * len(paths)
    columns = [pa.chunked_array([column[:100], column[100:]]) for column in (paths, lines, names, kinds)]
    by_native = records.symbol_ids(*columns).to_pylist()
    expected = [hashlib.sha1(f"{p}:{l}:{n}:{k}".encode()).hexdigest()[:16] for p, l, n, k in zip(paths, lines, names, kinds)]
    assert by_native == expected
    monkeypatch.setattr(native, "native", None)
    assert records.symbol_ids(*columns).to_pylist() == expected


def test_native_byte_ranges_are_the_joined_slices(monkeypatch) -> None:
    import numpy as np

    from forklift_core.ingest import native

    rng = np.random.default_rng(3)
    data = bytes(rng.integers(0, 256, 5000, dtype=np.uint8))
    starts = rng.integers(0, len(data), 300)
    stops = starts + rng.integers(-5, 200, 300)  # overlapping, unordered, some empty or reversed
    stops = np.minimum(stops, len(data))
    by_native = native.byte_ranges(data, starts, stops).to_pylist()
    assert by_native == [data[a:b] if b > a else b"" for a, b in zip(starts.tolist(), stops.tolist())]
    with pytest.raises(ValueError, match="within the data"):
        native.native.join_ranges(data, np.array([0], np.int64), np.array([len(data) + 1], np.int64))
    monkeypatch.setattr(native, "native", None)
    assert native.byte_ranges(data, starts, stops).to_pylist() == by_native


def test_ids_are_the_same_by_the_cpus_sha_instructions_and_by_the_portable_rounds() -> None:
    import os
    import subprocess
    import sys

    # Keys of every length from 0 to 200 bytes (one, two and four blocks, every padding case), through each way.
    script = ("import hashlib, numpy as np\n"
              "from forklift_core.ingest.native import native\n"
              "keys = [bytes((7 * i + j) % 251 for j in range(i)) for i in range(201)]\n"
              "offsets = np.concatenate([[0], np.cumsum([len(k) for k in keys])]).astype(np.int64)\n"
              "made = native.short_sha1(b''.join(keys), offsets)\n"
              "print(made == b''.join(hashlib.sha1(k).hexdigest()[:16].encode() for k in keys))\n")
    for portable in (False, True):
        env = {name: value for name, value in os.environ.items() if name != "FORKLIFT_PORTABLE_SHA1"}
        if portable:
            env["FORKLIFT_PORTABLE_SHA1"] = "1"
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
        assert done.stdout.strip() == "True", (portable, done.stderr)


def test_the_resolver_finds_the_same_edges_by_name_hashes_by_set_lookups_and_through_hash_collisions(
        workspace, monkeypatch) -> None:
    import numpy as np
    import pyarrow.parquet as pq

    from forklift_core.ingest import refs
    from forklift_core.ingest.index import ingest
    from forklift_core.records import SYMBOL_OUTLINE, FileRecord
    from tests.conftest import POLYGLOT

    ingest(str(POLYGLOT), "p", workspace)
    index = workspace.project("p").index_dir
    symbols = pq.read_table(index / "symbols.parquet", columns=list(SYMBOL_OUTLINE))
    files = [FileRecord(**row) for row in pq.read_table(index / "files.parquet").to_pylist()]
    uses = pq.read_table(index / "raw_uses.parquet")

    def edges() -> list[dict]:
        found, _ = refs.Resolver(symbols, files).resolve(uses)
        return found.to_pylist()

    by_hashes = edges()
    assert len(by_hashes) > 20 and all(len(edge["src_id"]) in (0, 16) for edge in by_hashes)
    # Every name's hash the same as every other name of its length: each is confirmed or looked up by its text.
    monkeypatch.setattr(refs, "string_hashes", lambda values: np.array(
        [len(value) for value in values.to_pylist()], dtype=np.uint64))
    assert edges() == by_hashes
    monkeypatch.setattr(refs, "native", None)  # Arrow's set lookups, as without the native helpers
    assert edges() == by_hashes


def test_fixed_width_ids_are_taken_as_rows_and_any_other_column_by_arrow() -> None:
    import numpy as np
    import pyarrow as pa

    from forklift_core.ingest.refs import _FixedWidthText

    rows = np.array([2, -1, 0, 2])
    fixed = _FixedWidthText(pa.chunked_array([pa.array(["ab", "cd"]), pa.array(["ef"])]), 2)
    assert fixed.rows is not None and fixed.take(rows).to_pylist() == ["ef", "", "ab", "ef"]
    uneven = _FixedWidthText(pa.array(["ab", "cd", "efg"]), 2)
    assert uneven.rows is None and uneven.take(rows).to_pylist() == ["efg", "", "ab", "efg"]
    sliced = _FixedWidthText(pa.array(["xx", "ab", "cd"]).slice(1), 2)
    assert sliced.take(np.array([1, 0])).to_pylist() == ["cd", "ab"]


def test_ids_order_by_their_bytes_as_their_text_sorts_and_ties_keep_their_order() -> None:
    import random

    import numpy as np
    import pyarrow as pa

    from forklift_core.ingest.refs import _FixedWidthText

    rng = random.Random(7)
    ids = [f"{rng.getrandbits(64):016x}" for _ in range(300)]
    ids += ids[:40] + ["0" * 16, "f" * 16, "7fffffffffffffff", "8000000000000000"]  # repeats, and the words' edges
    rng.shuffle(ids)
    rows = np.array([index for index in range(len(ids)) if index % 3], dtype=np.int64)  # a subset, as the spans are
    expected = sorted(range(len(rows)), key=lambda at: (ids[rows[at]], at))  # by text; equal ids in their order
    for column in (pa.array(ids), pa.chunked_array([pa.array(ids[:100]), pa.array(ids[100:])])):
        words = _FixedWidthText(column, 16)
        assert words.rows is not None and len(words.sort_keys(rows)) == 2  # two 64-bit words, no string rank
        assert np.lexsort(words.sort_keys(rows)).tolist() == expected
    # A width that is no whole number of words, and ids of uneven width, are ranked as text.
    short = [text[:6] for text in ids]
    assert np.lexsort(_FixedWidthText(pa.array(short), 6).sort_keys(rows)).tolist() == \
        sorted(range(len(rows)), key=lambda at: (short[rows[at]], at))
    uneven = ids[:-1] + ["abc"]
    assert _FixedWidthText(pa.array(uneven), 16).rows is None
    assert np.lexsort(_FixedWidthText(pa.array(uneven), 16).sort_keys(rows)).tolist() == \
        sorted(range(len(rows)), key=lambda at: (uneven[rows[at]], at))
