"""The knowledge-first curriculum: importance, coverage, budget and order."""

from __future__ import annotations

from collections import Counter

from forklift_core.train.curriculum import FactInfo, build_curriculum, importance, is_test_path


def _rows(fact_id: str, family: str, phrasings: int = 5) -> list[dict]:
    return [{"fact_id": fact_id, "family": family, "template_id": f"t.{i}", "id": f"{fact_id}-{i}",
             "messages": [{"role": "user", "content": f"q{i} {fact_id}"}, {"role": "assistant", "content": "a"}]}
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
