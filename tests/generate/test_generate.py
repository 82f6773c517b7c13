"""Generated data is true by construction: exact answers, nothing outside the index, clean splits, wrong negatives."""

from __future__ import annotations

import json
import shutil
from collections import defaultdict

import pytest

from forklift_core.config import GenerateConfig
from forklift_core.curate.store import CurationStore
from forklift_core.generate.answers import states_fact
from forklift_core.generate.grounding import Vocabulary, ungrounded_mentions
from forklift_core.generate.pipeline import generate
from forklift_core.generate.templates import TEMPLATES
from forklift_core.ingest.index import ingest
from forklift_core.ingest.tables import IndexReader
from tests.conftest import POLYGLOT


@pytest.fixture
def generated(workspace):
    """The polyglot fixture ingested and generated with default settings."""
    ingest(str(POLYGLOT), "poly", workspace)
    summary = generate("poly", workspace)
    return summary, CurationStore(workspace.project("poly").curation_db)


def _by_question(store: CurationStore, kind: str = "sft") -> dict[str, dict]:
    return {p["question"]: p for p in store.pairs(kind=kind)}


def test_exact_grounded_answers(generated) -> None:
    _, store = generated
    qa = _by_question(store)
    assert qa["Where is `Circle.area` defined?"]["answer"] == "`Circle.area` is defined in `py/shapes/geometry.py` at line 20."
    assert qa["Where is `Circle.area` defined?"]["concise"] == "`py/shapes/geometry.py:20`"
    assert qa["Who calls `stack_pop`?"]["answer"] == "`stack_pop` is called by `stack_drain` (`c/stack.c` line 29)."
    assert qa["What members does `Circle` have?"]["answer"] == (
        "The class `Circle` in `py/shapes/geometry.py` has these members: `area` and `scaled`.")
    assert qa["What parameters does `vector_length` take?"]["answer"] == (
        "`vector_length` (in `py/shapes/geometry.py`) takes 2 parameters: `x` and `y`.")
    assert qa["What parameters does `server.describe` take?"]["answer"].endswith("takes 1 parameter: `port`.")
    assert qa["What does `Circle.area` do?"]["answer"] == (
        "`Circle.area` is a method in `py/shapes/geometry.py` (lines 20–22). Its documentation says: "
        "Return the area of the circle.")
    assert qa["How do I test this project?"]["answer"].startswith("To run the tests, run `make test` (Makefile target test")
    assert qa["Where is `stack_push` defined?"]["answer"] == "`stack_push` is defined in `c/stack.c` at line 12."


def test_every_family_has_five_phrasings_and_is_generated(polyglot_repo, workspace) -> None:
    ingest(str(polyglot_repo), "repo", workspace)  # a git checkout, so the history family is generated too
    summary = generate("repo", workspace)
    assert all(len(templates) >= 5 for templates in TEMPLATES.values())
    assert set(summary["by_family"]) == set(TEMPLATES)


def test_no_answer_names_anything_outside_the_index(generated, workspace) -> None:
    _, store = generated
    vocab = Vocabulary.from_index(IndexReader(workspace.project("poly")))
    for pair in store.pairs():
        assert ungrounded_mentions(pair["answer"], vocab) == [], pair["answer"]
    assert ungrounded_mentions("It lives in `src/imaginary.py` as `make_magic`.", vocab) == [
        "src/imaginary.py", "make_magic"]


def test_callers_of_cpp_push_ignore_javascript_push(generated) -> None:
    _, store = generated
    callers = _by_question(store)["Who calls `util.Queue.push`?"]
    assert callers["answer"] == "`util.Queue.push` is called by `fill` (`cpp/queue.cpp` line 17)."


def test_splits_test_generalisation_without_leakage(generated) -> None:
    summary, store = generated
    pairs = store.pairs(kind="sft")
    by_split = defaultdict(set)
    for p in pairs:
        by_split[p["split"]].add(p["question"])
    assert by_split["test"] and by_split["train"] and by_split["validation"]
    assert not by_split["test"] & by_split["train"]
    assert not by_split["validation"] & by_split["train"]
    facts_in = defaultdict(set)
    for p in pairs:
        facts_in[p["split"]].add(p["fact_id"])
    held_out = {p["fact_id"] for p in pairs if p["test_kind"] == "held_out_fact"}
    unseen = {p["fact_id"] for p in pairs if p["test_kind"] == "unseen_phrasing"}
    assert held_out and unseen
    assert not held_out & facts_in["train"]  # held-out facts never trained
    assert unseen <= facts_in["train"]  # unseen phrasings are of trained facts
    paths = {store.fact(fid)["path"] for fid in held_out}
    train_paths = {store.fact(fid)["path"] for fid in facts_in["train"]}
    assert not paths & train_paths  # held out by file: no neighbouring fact leaks
    assert summary["by_test_kind"] == {"held_out_fact": len([p for p in pairs if p["test_kind"] == "held_out_fact"]),
                                       "unseen_phrasing": len([p for p in pairs if p["test_kind"] == "unseen_phrasing"])}


def test_rejected_answers_are_never_the_chosen_fact(generated) -> None:
    summary, store = generated
    prefs = store.pairs(kind="dpo")
    assert len(prefs) > 100 and len(summary["by_negative_kind"]) >= 10
    for pair in prefs:
        fact = store.fact(pair["fact_id"])
        assert pair["rejected"] != pair["answer"]
        assert not states_fact(pair["rejected"], fact["family"], fact["data"]), pair
    kinds = {p["negative_kind"] for p in prefs}
    assert {"line_shift", "declaration_not_definition", "sibling_signature", "wrong_action"} <= kinds
    decl = next(p for p in prefs if p["negative_kind"] == "declaration_not_definition")
    assert "`c/stack.h`" in decl["rejected"] and "`c/stack.c`" in decl["answer"]


def test_same_seed_same_data_other_seed_other_split(workspace) -> None:
    ingest(str(POLYGLOT), "poly", workspace)
    store = CurationStore(workspace.project("poly").curation_db)
    generate("poly", workspace)
    first = {p["id"]: p["split"] for p in store.pairs()}
    generate("poly", workspace)
    assert {p["id"]: p["split"] for p in store.pairs()} == first
    generate("poly", workspace, GenerateConfig(seed=99))
    assert {p["id"]: p["split"] for p in store.pairs()} != first


def test_caps_per_file_and_family(workspace) -> None:
    ingest(str(POLYGLOT), "poly", workspace)
    generate("poly", workspace, GenerateConfig(max_facts_per_file=2, max_facts_per_family=3))
    store = CurationStore(workspace.project("poly").curation_db)
    facts = {p["fact_id"] for p in store.pairs()}
    per_family = defaultdict(int)
    for fid in facts:
        per_family[store.fact(fid)["family"]] += 1
    assert max(per_family.values()) <= 3


def test_needs_review_without_a_doc(generated) -> None:
    _, store = generated
    qa = _by_question(store)
    undocumented = qa["What does `stack_pop` do?"]
    assert undocumented["status"] == "needs_review"
    assert qa["What does `Circle.area` do?"]["status"] == "pending"


def test_regeneration_never_overwrites_an_edited_pair(generated, workspace) -> None:
    _, store = generated
    pair = _by_question(store)["Where is `Circle.area` defined?"]
    with store.connect() as db:
        db.execute("UPDATE pairs SET answer = ?, version = 2, status = 'accepted' WHERE id = ?",
                   ("Edited by a reviewer.", pair["id"]))
    result = generate("poly", workspace)
    again = _by_question(store)["Where is `Circle.area` defined?"]
    assert (again["answer"], again["version"], again["status"]) == ("Edited by a reviewer.", 2, "accepted")
    assert result["store"]["kept_edited"] == 1


def test_an_edited_pair_whose_fact_changed_on_reingest_is_kept_and_flagged(tmp_path, workspace) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(POLYGLOT, tree)
    ingest(str(tree), "poly", workspace)
    generate("poly", workspace)
    store = CurationStore(workspace.project("poly").curation_db)
    edited = {q: _by_question(store)[q] for q in ("Where is `Circle.area` defined?", "Where is `stack_pop` defined?")}
    with store.connect() as db:
        for pair in edited.values():
            db.execute("UPDATE pairs SET answer = ?, version = 2, status = 'accepted' WHERE id = ?",
                       ("Edited by a reviewer.", pair["id"]))
    unchanged = generate("poly", workspace)["store"]
    assert (unchanged["flagged_edited"], unchanged["written"]) == (0, 0)  # nothing changed: nothing touched
    before = {p["id"]: p["updated_at"] for p in store.pairs()}

    geometry = tree / "py" / "shapes" / "geometry.py"  # Circle.area moves down two lines; stack_pop stays
    geometry.write_text(geometry.read_text().replace("class Circle:", "# Shapes with a radius.\n\nclass Circle:")
                        + "\n\ndef unit_circle_area():\n    \"\"\"The area of a circle of radius one.\"\"\"\n    return 3.14159\n")
    assert ingest(str(tree), "poly", workspace)["changes"]["files_changed"] == 1
    stored = generate("poly", workspace)["store"]
    assert stored["flagged_edited"] == 1
    # Only the pairs whose fact changed are rewritten: nothing about the other languages' files is touched.
    assert 0 < stored["written"] < stored["stored"] / 4
    with store.read() as db:
        fact_path = dict(db.execute("SELECT p.id, f.path FROM pairs p JOIN facts f ON f.id = p.fact_id").fetchall())
    after = {p["id"]: p["updated_at"] for p in store.pairs()}
    elsewhere = [pid for pid, path in fact_path.items() if path and not path.startswith("py/") and pid in before]
    assert elsewhere and all(after[pid] == before[pid] for pid in elsewhere)
    moved = store.pairs()
    area = next(p for p in moved if p["id"] == edited["Where is `Circle.area` defined?"]["id"])
    pop = next(p for p in moved if p["id"] == edited["Where is `stack_pop` defined?"]["id"])
    assert (area["answer"], area["status"], area["version"]) == ("Edited by a reviewer.", "flagged", 2)
    assert "check this edited answer" in area["flags"]
    assert (pop["answer"], pop["status"]) == ("Edited by a reviewer.", "accepted")


def test_secrets_are_redacted_counted_and_listed(tmp_path, workspace) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(POLYGLOT / "py", repo)
    token = "hf_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7"
    (repo / "shapes" / "settings.py").write_text(
        f'def connect():\n    """Connect with token {token} to the service."""  # pragma: allowlist secret\n'
        f'    aws = "AKIA{"Z" * 16}"\n    return aws\n')
    ingest(str(repo), "leaky", workspace)
    summary = generate("leaky", workspace)
    store = CurationStore(workspace.project("leaky").curation_db)
    everything = json.dumps(store.pairs()) + json.dumps([store.fact(p["fact_id"]) for p in store.pairs()])
    assert token not in everything and "AKIA" + "Z" * 16 not in everything
    assert "[REDACTED:Hugging Face token]" in everything
    assert summary["secrets_redacted"] >= 2
    kinds = {h["kind"] for h in store.secret_hits()}
    assert {"Hugging Face token", "AWS access key id"} <= kinds
    assert all(h["path"] == "shapes/settings.py" for h in store.secret_hits())


def test_a_regeneration_scans_only_new_text_and_still_redacts(tmp_path, workspace, monkeypatch) -> None:
    from forklift_core.generate import secrets

    repo = tmp_path / "repo"
    shutil.copytree(POLYGLOT / "py", repo)
    token = "hf_" + "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3"
    (repo / "shapes" / "settings.py").write_text(f'def connect():\n    """Connect with token {token}."""\n    return 1\n')
    ingest(str(repo), "leaky", workspace)
    scanned: list[str] = []
    real_detect = secrets.detect
    monkeypatch.setattr(secrets, "detect", lambda text, *a: scanned.append(text) or real_detect(text, *a))
    first = generate("leaky", workspace)
    first_scans = len(scanned)
    scanned.clear()
    again = generate("leaky", workspace)
    # Only the texts holding the token are scanned again; every clean text is known by its digest.
    assert scanned and len(scanned) < first_scans / 10 and all(token in text for text in scanned)
    assert again["secrets_redacted"] == first["secrets_redacted"] > 0
    store = CurationStore(workspace.project("leaky").curation_db)
    assert token not in json.dumps(store.pairs())
    assert token.encode() not in (workspace.project("leaky").root / "secret_scan_clean.bin").read_bytes()

    (workspace.project("leaky").root / "secret_scan_clean.bin").write_bytes(b"other-scanner\n" + b"x" * 32)
    scanned.clear()
    generate("leaky", workspace)
    assert len(scanned) == first_scans  # another scanner's verdicts are not trusted: everything is scanned again
