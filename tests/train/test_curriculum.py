"""The knowledge-first curriculum: importance, coverage, budget and order."""

from __future__ import annotations

from collections import Counter

from forklift_core.train.curriculum import FactInfo, build_curriculum, importance, is_test_path


def _rows(fact_id: str, family: str, phrasings: int = 5, about: str = "") -> list[dict]:
    return [{"fact_id": fact_id, "family": family, "template_id": f"t.{i}", "id": f"{fact_id}-{i}",
             "messages": [{"role": "user", "content": f"q{i} {about or fact_id}"}, {"role": "assistant", "content": "a"}]}
            for i in range(1, phrasings + 1)]


def test_library_api_before_tests_examples_and_private_helpers() -> None:
    api = FactInfo("a", "definition_location", "Index.load", "pkg/index.py", references=12)
    quiet = FactInfo("b", "definition_location", "Index.dump", "pkg/index.py", references=0)
    test = FactInfo("c", "definition_location", "test_load", "tests/test_index.py", references=12)
    example = FactInfo("d", "definition_location", "demo", "examples/demo.py", references=12)
    private = FactInfo("e", "definition_location", "_helper", "pkg/index.py", references=12)
    history = FactInfo("f", "last_change", "pkg/index.py", "pkg/index.py", references=12)
    ranked = sorted([quiet, test, example, private, history, api], key=importance, reverse=True)
    assert ranked[0] is api
    assert importance(quiet) > importance(test) and importance(api) > importance(history)
    assert importance(api) > importance(example) > importance(test) and importance(api) > importance(private)
    assert is_test_path("src/foo_test.go") and is_test_path("pkg/tests/helpers.py") and not is_test_path("pkg/x.py")


def test_budget_covers_the_most_valuable_facts_with_phrasings_and_passes() -> None:
    facts, rows = [], []
    for n in range(40):
        fact_id = f"f{n:02d}"
        facts.append(FactInfo(fact_id, "definition_location", f"sym{n}", "pkg/m.py", references=n))
        rows += _rows(fact_id, "definition_location")
    for n in range(10):
        fact_id = f"absent{n}"
        facts.append(FactInfo(fact_id, "absent_symbol", f"missing{n}", ""))
        rows += _rows(fact_id, "absent_symbol")
    curriculum = build_curriculum(rows, facts, budget_rows=90, phrasings=3, passes=3)
    assert len(curriculum.rows) <= 90 and curriculum.facts_covered == len(curriculum.rows) // 9
    assert curriculum.facts_covered + curriculum.facts_left_out == 50
    seen = Counter(row["id"] for row in curriculum.rows)
    assert set(seen.values()) == {3}  # every chosen phrasing once per pass
    per_fact = Counter(row["fact_id"] for row in curriculum.rows)
    assert set(per_fact.values()) == {9}  # 3 phrasings × 3 passes
    covered = set(per_fact)
    definitions = {f for f in covered if f.startswith("f")}
    assert definitions == {f"f{n:02d}" for n in range(39, 39 - len(definitions), -1)}  # the most-referenced ones
    assert any(f.startswith("absent") for f in covered)  # abstention keeps its reserved share
    first_pass = [row["id"] for row in curriculum.rows[: len(curriculum.rows) // 3]]
    assert len(set(first_pass)) == len(first_pass)  # a pass shows each row once before any repeats
    assert "facts × 3 phrasings × 3 passes" in curriculum.summary()


def test_a_budget_that_covers_everything_leaves_nothing_out() -> None:
    rows = _rows("only", "kind_signature", phrasings=2)
    curriculum = build_curriculum(rows, [FactInfo("only", "kind_signature", "x", "a.py")], 10_000, 3, 2)
    assert curriculum.facts_left_out == 0 and len(curriculum.rows) == 4  # 2 phrasings (all there are) × 2 passes


def _symbol(symbol_id: str, name: str, path: str, line: int, scope: str = "") -> dict:
    return {"id": symbol_id, "name": name, "scope": scope, "path": path, "line": line, "kind": "function",
            "signature": "(x)", "doc": ""}


def test_grounded_rows_put_the_gold_record_among_near_misses() -> None:
    from forklift_core.evidence import RECORDS_PER_PROMPT
    from forklift_core.train.curriculum import GROUNDED_SUFFIX, grounded_rows

    symbols = [_symbol("s-load", "load_index", "pkg/index.py", 12), _symbol("s-loadall", "load_all", "pkg/all.py", 3),
               _symbol("s-dump", "dump_index", "pkg/index.py", 40), _symbol("s-other", "render", "ui/page.py", 8)]
    facts = [FactInfo("def", "definition_location", "load_index", "pkg/index.py", 3, "s-load"),
             FactInfo("absent", "absent_symbol", "load_indexes", ""),
             FactInfo("who", "callers", "load_index", "pkg/index.py", 3, "s-load")]
    rows = _rows("def", "definition_location", about="def") + _rows("absent", "absent_symbol", about="`load_indexes`") + \
        _rows("who", "callers")
    curriculum = build_curriculum(rows, facts, budget_rows=10_000, phrasings=3, passes=2)
    made = {row["fact_id"]: row for row in grounded_rows(curriculum, rows, facts, symbols, seed=3)
            if row["template_id"].startswith("t.1")}
    assert set(made) == {"def", "absent"}  # a caller list is not in a record: no grounded row for it
    definition = made["def"]["messages"][-2]["content"]
    assert "pkg/index.py:12 function `load_index(x)`" in definition  # the gold record...
    assert definition.count("\n- ") == RECORDS_PER_PROMPT and definition.endswith("q1 def")  # ...among near misses
    assert made["def"]["messages"][-1] == rows[0]["messages"][-1] and made["def"]["template_id"].endswith(GROUNDED_SUFFIX)
    absent = made["absent"]["messages"][-2]["content"]
    assert "`load_index(x)`" in absent and "load_indexes" not in absent.split("\n\n")[0]  # near misses, never it
    assert "The index has no symbol, file or folder named `load_indexes`." in absent  # what the exact lookup says
    assert "The index has no" not in definition


def test_grounded_rows_are_paid_for_out_of_the_budget(tmp_path) -> None:
    from datasets import Dataset, DatasetDict, load_from_disk

    from forklift_core.train.curriculum import GROUNDED_PHRASINGS, GROUNDED_SUFFIX, write_curriculum

    facts, rows, symbols = [], [], []
    for n in range(30):
        facts.append(FactInfo(f"f{n:02d}", "definition_location", f"sym{n}", "pkg/m.py", n, f"s{n}"))
        rows += _rows(f"f{n:02d}", "definition_location")
        symbols.append(_symbol(f"s{n}", f"sym{n}", "pkg/m.py", n + 1))
    for row in rows:
        row.update(test_kind="", concise="")
    DatasetDict({"train": Dataset.from_list(rows)}).save_to_disk(str(tmp_path / "dataset" / "sft"))
    budget = lambda tokens: int(4000 / tokens)  # noqa: E731 - a fixed token budget, in rows of the given length
    plain = write_curriculum(tmp_path / "dataset", tmp_path / "plain", facts, budget, 3, 3, 1, spare_passes=0)
    grounded = write_curriculum(tmp_path / "dataset", tmp_path / "grounded", facts, budget, 3, 3, 1, spare_passes=0,
                                symbols=symbols)
    assert grounded.grounded_rows == GROUNDED_PHRASINGS * grounded.facts_covered > 0
    assert "with index records" in grounded.summary()
    assert grounded.facts_covered < plain.facts_covered  # the records' tokens come out of the same budget
    written = load_from_disk(str(tmp_path / "grounded" / "sft"))["train"]
    assert sum(t.endswith(GROUNDED_SUFFIX) for t in written["template_id"]) == grounded.grounded_rows


def test_grounded_abstentions_reach_their_share_beyond_the_covered_facts() -> None:
    from forklift_core.train.curriculum import GROUNDED_ABSTAIN_SHARE, GROUNDED_PHRASINGS, grounded_rows

    facts, rows, symbols = [], [], []
    for n in range(12):
        facts.append(FactInfo(f"f{n:02d}", "definition_location", f"sym{n}", "pkg/m.py", 12 - n, f"s{n}"))
        rows += _rows(f"f{n:02d}", "definition_location")
        symbols.append(_symbol(f"s{n}", f"sym{n}", "pkg/m.py", n + 1))
    for n in range(20):
        facts.append(FactInfo(f"absent{n:02d}", "absent_symbol", f"missing{n}", ""))
        rows += _rows(f"absent{n:02d}", "absent_symbol")
    curriculum = build_curriculum(rows, facts, budget_rows=12 * 9, phrasings=3, passes=3)
    made = grounded_rows(curriculum, rows, facts, symbols, seed=1)
    absent = [r for r in made if r["family"] == "absent_symbol"]
    assert len(absent) / len(made) >= GROUNDED_ABSTAIN_SHARE - 0.05
    assert {r["fact_id"] for r in absent} - set(curriculum.fact_ids)  # beyond what the budget covered
    per_fact = Counter(r["fact_id"] for r in made)
    assert set(per_fact.values()) == {GROUNDED_PHRASINGS}  # each fact in as many phrasings, each its own records
