"""Evaluating a run: batched equals sequential, the report renders, ask and A/B judgments, the CLI."""

from __future__ import annotations

import json
import random

import pytest

from forklift_core.cli import main
from forklift_core.config import EvalConfig
from forklift_core.curate.store import CurationStore
from forklift_core.evaluate import judge
from forklift_core.evaluate.answering import BASE, TUNED, answer_all
from forklift_core.evaluate.items import eval_items, spread
from forklift_core.evaluate.pipeline import Evaluation
from forklift_core.evaluate.report import METRICS, read_report


@pytest.fixture(scope="module")
def evaluation(trained):
    workspace, project, run_id = trained
    return Evaluation(workspace, project, run_id, EvalConfig(limit=12, batch_size=4, max_new_tokens=16))


def test_batched_and_sequential_generation_give_the_same_greedy_answers(evaluation) -> None:
    questions = ["Where is `Queue` defined?", "What does this project build?", "Who calls `push`?",
                 "List the functions in `src/util.c`.", "What is a tuple?"]
    for system in (BASE, TUNED):
        batched = answer_all(evaluation.models, system, questions, batch_size=5, max_new_tokens=12)
        one_by_one = answer_all(evaluation.models, system, questions, batch_size=1, max_new_tokens=12)
        assert batched == one_by_one


def test_the_adapter_changes_the_answers(evaluation) -> None:
    questions = [f"Where is `symbol_{i}` defined?" for i in range(6)]
    base = answer_all(evaluation.models, BASE, questions, 6, 12)
    tuned = answer_all(evaluation.models, TUNED, questions, 6, 12)
    assert base != tuned  # the adapter is really switched on and off


def test_items_spread_over_families_and_test_kinds(trained) -> None:
    workspace, project, run_id = trained
    store = CurationStore(workspace.project(project).curation_db)
    items = eval_items(workspace.project(project).runs_dir / run_id / "dataset", store, limit=10, seed=1)
    assert len(items) == 10
    assert len({(i.family, i.test_kind) for i in items}) >= 5  # taken in turn from each group, not the first ten
    assert all(i.fact_data and i.reference for i in items)
    rows = [{"id": str(n), "family": f"f{n % 3}", "test_kind": "unseen_phrasing"} for n in range(9)]
    assert spread(rows, 3, seed=1) != spread(rows, 3, seed=2) or len({r["family"] for r in spread(rows, 3, 1)}) == 3
    assert len({r["family"] for r in spread(rows, 3, seed=1)}) == 3


def test_evaluating_a_run_writes_the_report(evaluation, trained) -> None:
    report = evaluation.run()
    folder = evaluation.run_dir / "eval"
    assert read_report(folder) == json.loads((folder / "report.json").read_text())
    assert report["systems"] == ["base", "tuned", "tuned+guard", "base+context", "tuned+context"]
    assert report["item_count"] == 12 and len(report["items"]) == 12
    overall = report["overall"]["tuned"]
    assert set(METRICS) <= set(overall) and all(0 <= overall[m] <= 1 for m in METRICS)
    kinds = {row["test_kind"] for row in report["table"]}
    assert {"all"} < kinds  # one row per test kind as well as the total
    markdown = (folder / "report.md").read_text()
    assert "| family | test kind |" in markdown and "Retention" in markdown
    assert (folder / "metrics.png").stat().st_size > 1000 and (folder / "similarity.png").stat().st_size > 1000
    assert 0 <= report["retention"]["mean_similarity"] <= 1.0001
    item = json.loads((folder / "report.json").read_text())["items"][0]
    assert set(item["answers"]) == set(report["systems"]) and "similarity" in item["answers"]["base"]


def test_ask_scores_a_dataset_question_and_flags_names(evaluation, trained) -> None:
    workspace, project, _ = trained
    question = CurationStore(workspace.project(project).curation_db).pairs(kind="sft")[0]["question"]
    result = evaluation.ask(question)
    assert result["item"]["question"] == question
    assert {"similarity", "chrf", "correct", "unknown_names"} <= set(result["answers"]["tuned"])
    free = evaluation.score_pair("What is a monad?", {BASE: "See `src/nowhere.py`.", TUNED: "A monoid."})
    assert free["item"] is None and free["answers"][BASE]["unknown_names"] == ["src/nowhere.py"]


def test_answers_that_consult_the_index_abstain_on_absent_names_and_the_closed_book_one_is_generated(
        evaluation) -> None:
    questions = ["Where is fetch_every_widget defined?", "Where is `Queue` defined?"]
    result = evaluation.ask_many(questions, guard=True, grounded=True)
    absent, real = (r["answers"] for r in result)
    for system in ("tuned+guard", "tuned+context"):
        assert absent[system]["text"].startswith("There is no fetch_every_widget in this repository.")
        assert not real[system]["text"].startswith("There is no")  # a real name goes to the model
    assert not absent[TUNED]["text"].startswith("There is no")  # the closed-book answer stays the model's own


def test_a_blind_judgment_lands_in_the_curation_store(trained) -> None:
    workspace, project, run_id = trained
    store = CurationStore(workspace.project(project).curation_db)
    question = store.pairs(kind="sft")[0]["question"]
    pair = judge.blind(question, {BASE: "a wrong answer", TUNED: "the right answer"}, random.Random(3))
    winner = "a" if pair.system_a == TUNED else "b"
    result = judge.record(store, run_id, pair, winner, "ada")
    assert result["winner"] == TUNED and result["tally"][TUNED] >= 1
    added = [p for p in store.pairs(kind="dpo") if p["id"] == result["pair_id"]][0]
    assert (added["answer"], added["rejected"], added["status"]) == ("the right answer", "a wrong answer", "accepted")
    assert added["negative_kind"] == "human_ab" and added["updated_by"] == "ada" and added["version"] == 2
    both = judge.record(store, run_id, pair, "both_wrong", "ada")
    assert both["pair_id"] == "" and both["tally"]["both wrong"] == 1
    with pytest.raises(Exception):
        judge.record(store, run_id, pair, "c", "ada")


def test_cli_eval_and_ask(trained, capsys) -> None:
    workspace, project, run_id = trained
    assert main(["eval", "--workspace", str(workspace.root), "--project", project, "--limit", "6", "--no-context",
                 "--json", "--quiet"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["run_id"] == run_id and summary["items"] == 6
    assert set(summary["overall"]) == {"base", "tuned", "tuned+guard"}
    assert main(["ask", "--workspace", str(workspace.root), "--project", project, "--json",
                 "Where is `Queue` defined?"]) == 0
    answered = json.loads(capsys.readouterr().out)
    assert set(answered["answers"]) == {"base", "tuned", "tuned+guard"} and "mutual_similarity" in answered
    questions = workspace.root / "questions.txt"
    questions.write_text("# my questions\nWhere is `Queue` defined?\n\nWho calls `push`?\n")
    assert main(["ask", "--workspace", str(workspace.root), "--project", project, "--json", "--grounded", "--quiet",
                 "--questions", str(questions)]) == 0
    batch = json.loads(capsys.readouterr().out)
    assert [r["question"] for r in batch] == ["Where is `Queue` defined?", "Who calls `push`?"]
    assert all(set(r["answers"]) == {"base", "tuned", "tuned+guard", "tuned+context"} for r in batch)
    assert main(["ask", "--workspace", str(workspace.root), "--project", project, "--run", "nope", "x"]) == 2
