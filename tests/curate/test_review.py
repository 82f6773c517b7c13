"""The curation store under review: optimistic versions, the edit log, undo, bulk edits, replay, concurrency."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from pathlib import Path

import pytest

from forklift_core.curate import review
from forklift_core.curate.review import ConflictError, PairFilter
from forklift_core.curate.store import CurationStore
from forklift_core.errors import BadInputError, NotFoundError
from forklift_core.generate.pipeline import generate
from tests.conftest import copy_project


@pytest.fixture
def store(workspace, generated_polyglot) -> CurationStore:
    copy_project(generated_polyglot, workspace)  # ingested and generated once per run
    return CurationStore(workspace.project("poly").curation_db)


def _first(store: CurationStore, **filters) -> dict:
    rows, _ = review.page(store, PairFilter(**filters), 0, 1)
    return rows[0]


def test_wal_mode(store) -> None:
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_edit_is_versioned_and_logged(store) -> None:
    pair = _first(store, kind="sft")
    updated = review.edit_pair(store, pair["id"], {"answer": "Better answer.", "status": "accepted"},
                               pair["version"], "alice")
    assert updated["version"] == pair["version"] + 1
    again = review.get_pair(store, pair["id"])
    assert (again["answer"], again["status"], again["updated_by"]) == ("Better answer.", "accepted", "alice")
    (entry,) = review.edit_history(store, pair["id"])
    assert entry["user"] == "alice" and entry["base_version"] == pair["version"]
    assert '"answer": "Better answer."' in entry["after"] and pair["answer"][:20] in entry["before"]


def test_stale_version_is_refused_with_the_other_edit(store) -> None:
    pair = _first(store, kind="sft")
    review.edit_pair(store, pair["id"], {"answer": "Alice's answer."}, pair["version"], "alice")
    with pytest.raises(ConflictError, match="changed by alice") as caught:
        review.edit_pair(store, pair["id"], {"answer": "Bob's answer."}, pair["version"], "bob")
    assert caught.value.current["answer"] == "Alice's answer."
    assert review.get_pair(store, pair["id"])["answer"] == "Alice's answer."  # nothing overwritten


def test_undo_restores_and_refuses_after_someone_else(store) -> None:
    pair = _first(store, kind="sft")
    review.edit_pair(store, pair["id"], {"status": "rejected"}, pair["version"], "alice")
    review.edit_pair(store, pair["id"], {"answer": "Second edit."}, pair["version"] + 1, "alice")
    review.undo_last(store, "alice")
    assert review.get_pair(store, pair["id"])["answer"] == pair["answer"]
    assert review.get_pair(store, pair["id"])["status"] == "rejected"
    review.undo_last(store, "alice")
    assert review.get_pair(store, pair["id"])["status"] == pair["status"]
    with pytest.raises(NotFoundError):
        review.undo_last(store, "alice")
    other = _first(store, kind="dpo")
    review.edit_pair(store, other["id"], {"status": "accepted"}, other["version"], "alice")
    review.edit_pair(store, other["id"], {"comment": "fine"}, other["version"] + 1, "bob")
    with pytest.raises(ConflictError, match="undo refused"):
        review.undo_last(store, "alice")


def test_swap_chosen_and_rejected(store) -> None:
    pair = _first(store, kind="dpo")
    review.swap_chosen_rejected(store, pair["id"], pair["version"], "alice")
    swapped = review.get_pair(store, pair["id"])
    assert (swapped["answer"], swapped["rejected"]) == (pair["rejected"], pair["answer"])
    with pytest.raises(BadInputError):
        sft = _first(store, kind="sft")
        review.swap_chosen_rejected(store, sft["id"], sft["version"], "alice")


def test_filters_pages_and_counts(store) -> None:
    rows, total = review.page(store, PairFilter(family="callers", kind="sft"), 0, 3)
    assert len(rows) == 3 and total > 3 and all(r["family"] == "callers" for r in rows)
    rows, total = review.page(store, PairFilter(path="c"), 0, 500)
    assert total and all(r["fact_path"].startswith("c/") or r["fact_path"] == "c" for r in rows)
    rows, _ = review.page(store, PairFilter(text="stack_drain"), 0, 500)
    assert rows and all("stack_drain" in r["question"] + r["answer"] + r["rejected"] for r in rows)
    counts = review.summary_counts(store)
    assert counts["total"] == sum(counts["by_status"].values()) and counts["reviewed"] == 0


def test_text_search_finds_substrings_in_any_case_and_follows_edits(store) -> None:
    everything, _ = review.page(store, PairFilter(), 0, 10_000)
    expected = {p["id"] for p in everything if "ack_dr" in (p["question"] + p["answer"] + p["rejected"]).lower()}
    found, total = review.page(store, PairFilter(text="ACK_DR"), 0, 10_000)  # a substring, in another case
    assert expected and {p["id"] for p in found} == expected and total == len(expected)
    assert review.position(store, PairFilter(text="ack_dr"), found[-1]["id"]) == len(found) - 1
    short, _ = review.page(store, PairFilter(text="_d"), 0, 10_000)  # under three characters: no trigram, still found
    assert expected <= {p["id"] for p in short}

    pair = found[0]
    review.edit_pair(store, pair["id"], {"question": "Where is the wibblewobble kept?"}, pair["version"], "ana")
    assert [p["id"] for p in review.page(store, PairFilter(text="wibblewob"), 0, 50)[0]] == [pair["id"]]
    still = {p["id"] for p in review.page(store, PairFilter(text="ack_dr"), 0, 10_000)[0]}
    assert pair["id"] not in still or "ack_dr" in (pair["answer"] + pair["rejected"]).lower()


def test_a_store_made_before_the_text_index_gets_it_filled(store) -> None:
    with store.connect() as db:
        for statement in ("DROP TRIGGER pairs_text_insert", "DROP TRIGGER pairs_text_delete",
                          "DROP TRIGGER pairs_text_update", "DROP TABLE pairs_text"):
            db.execute(statement)
    reopened = CurationStore(store.path)
    found, _ = review.page(reopened, PairFilter(text="stack_drain"), 0, 500)
    assert found and all("stack_drain" in (p["question"] + p["answer"] + p["rejected"]) for p in found)


def test_bulk_accept_a_filter(store) -> None:
    where = PairFilter(family="definition_location", kind="sft", status="pending")
    _, expected = review.page(store, where, 0, 1)
    changed = review.bulk_edit(store, where, {"status": "accepted"}, "alice")
    assert changed == expected
    counts = review.summary_counts(store, PairFilter(family="definition_location", kind="sft"))
    assert counts["by_status"]["accepted"] == expected and counts["reviewed"] == expected


def test_state_rebuilds_from_the_log(store) -> None:
    a, b = review.page(store, PairFilter(kind="sft"), 0, 2)[0]
    review.edit_pair(store, a["id"], {"answer": "Edited A."}, a["version"], "alice")
    review.edit_pair(store, a["id"], {"status": "accepted"}, a["version"] + 1, "alice")
    review.edit_pair(store, b["id"], {"split": "test", "comment": "moved"}, b["version"], "bob")
    expected = {p["id"]: p for p in (review.get_pair(store, a["id"]), review.get_pair(store, b["id"]))}
    with store.connect() as db:  # simulate a lost table state: edited fields reset to the generated values
        db.execute("UPDATE pairs SET answer = ?, status = 'pending', version = 1 WHERE id = ?", (a["answer"], a["id"]))
        db.execute("UPDATE pairs SET split = ?, comment = '', version = 1 WHERE id = ?", (b["split"], b["id"]))
    assert review.replay_log(store) == 2
    for pair_id, want in expected.items():
        got = review.get_pair(store, pair_id)
        assert {k: got[k] for k in ("answer", "status", "split", "comment", "version")} == \
               {k: want[k] for k in ("answer", "status", "split", "comment", "version")}


def test_concurrent_writers_in_threads_never_interfere(store) -> None:
    rows, _ = review.page(store, PairFilter(kind="sft"), 0, 40)
    errors: list[Exception] = []

    def work(pair: dict, user: str) -> None:
        try:
            review.edit_pair(store, pair["id"], {"answer": f"edited by {user}"}, pair["version"], user)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(row, f"user{i}")) for i, row in enumerate(rows)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for i, row in enumerate(rows):
        assert review.get_pair(store, row["id"])["answer"] == f"edited by user{i}"


def test_same_pair_from_many_threads_has_exactly_one_winner(store) -> None:
    pair = _first(store, kind="sft")
    outcomes: list[str] = []
    lock = threading.Lock()

    def work(user: str) -> None:
        try:
            review.edit_pair(store, pair["id"], {"answer": user}, pair["version"], user)
            result = "won"
        except ConflictError:
            result = "conflict"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=work, args=(f"user{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * 7 + ["won"]
    assert len(review.edit_history(store, pair["id"])) == 1


def _process_writer(db_path: str, pair_id: str, version: int, user: str) -> None:
    review.edit_pair(CurationStore(Path(db_path)), pair_id, {"comment": f"from {user}"}, version, user)


def test_concurrent_writers_in_processes(store) -> None:
    rows, _ = review.page(store, PairFilter(kind="dpo"), 0, 6)
    context = multiprocessing.get_context("spawn")
    procs = [context.Process(target=_process_writer, args=(str(store.path), r["id"], r["version"], f"p{i}"))
             for i, r in enumerate(rows)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * len(rows)
    for i, row in enumerate(rows):
        assert review.get_pair(store, row["id"])["comment"] == f"from p{i}"


def test_regenerate_keeps_reviewed_pairs(store, workspace) -> None:
    pair = _first(store, kind="sft", family="purpose")
    review.edit_pair(store, pair["id"], {"status": "accepted"}, pair["version"], "alice")
    generate("poly", workspace)
    again = review.get_pair(store, pair["id"])
    assert again["status"] == "accepted" and again["version"] == pair["version"] + 1
