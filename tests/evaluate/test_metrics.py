"""Metric functions on hand-written answers: parsed facts, unknown names, chrF and embedding similarity."""

from __future__ import annotations

import pytest

from forklift_core.evaluate.metrics import chrf, cosine, fact_correct, grade, stated_lines, stated_paths
from forklift_core.generate.grounding import Vocabulary

DEFINITION = {"label": "build_app", "locations": [{"path": "forklift_core/ui/app.py", "line": 21}]}
SYMBOLS = [{"name": "build_app", "scope": "", "signature": "(settings)", "snippet": "def build_app(settings):"},
           {"name": "launch", "scope": "", "signature": "(demo)", "snippet": "def launch(demo):"}]


@pytest.fixture
def vocab() -> Vocabulary:
    return Vocabulary.build(["forklift_core/ui/app.py", "forklift_core/cli.py"], SYMBOLS)


def test_right_path_and_line_is_correct(vocab) -> None:
    answer = "`build_app` is defined in `forklift_core/ui/app.py` at line 21."
    result = grade(answer, "definition_location", DEFINITION, vocab)
    assert result.correct and not result.hallucinated


def test_right_path_with_a_wrong_line_is_wrong_unless_within_tolerance() -> None:
    far = "It is in forklift_core/ui/app.py, line 90."
    near = "It is in forklift_core/ui/app.py:22."
    assert not fact_correct(far, "definition_location", DEFINITION, line_tolerance=2)
    assert fact_correct(near, "definition_location", DEFINITION, line_tolerance=2)
    assert not fact_correct(near, "definition_location", DEFINITION, line_tolerance=0)


def test_wrong_path_with_the_right_line_is_wrong() -> None:
    assert not fact_correct("`forklift_core/cli.py` at line 21", "definition_location", DEFINITION)


def test_a_made_up_file_and_symbol_are_hallucinations(vocab) -> None:
    answer = "`build_app` lives in src/app_factory.py and calls `make_widgets`."
    result = grade(answer, "definition_location", DEFINITION, vocab)
    assert not result.correct
    assert set(result.unknown_names) == {"src/app_factory.py", "make_widgets"}


def test_known_names_and_paths_are_not_flagged(vocab) -> None:
    answer = "See `forklift_core/cli.py:12` and `launch(demo)`; the folder `forklift_core/ui/` holds the app."
    assert grade(answer, "callers", {"callers": []}, vocab).unknown_names == []


def test_paths_and_lines_are_parsed_from_prose() -> None:
    text = "Defined in `a/b.py` at line 7; also a/c.py:12 and utils.py, lines 40-45."
    assert stated_paths(text) == ["a/b.py", "a/c.py", "utils.py"]
    assert stated_lines(text) == [7, 12, 40]


def test_other_families_need_every_key_claim() -> None:
    data = {"callers": [{"name": "main"}, {"name": "serve"}]}
    assert fact_correct("It is called by `main` and `serve`.", "callers", data)
    assert not fact_correct("It is called by `main`.", "callers", data)


def test_chrf_prefers_the_closer_answer() -> None:
    reference = "`build_app` is defined in `forklift_core/ui/app.py` at line 21."
    close, far = chrf(["build_app is defined in forklift_core/ui/app.py, line 21", "I do not know."],
                      [reference, reference])
    assert 0 <= far < close <= 1


@pytest.mark.slow
def test_a_paraphrased_correct_answer_is_similar_and_correct(vocab) -> None:
    from forklift_core.models import Embedder

    reference = "`build_app` is defined in `forklift_core/ui/app.py` at line 21."
    paraphrase = "You can find the definition of build_app on line 21 of forklift_core/ui/app.py."
    unrelated = "Bananas are rich in potassium."
    similar, dissimilar = cosine(Embedder(), [paraphrase, unrelated], [reference, reference])
    assert similar > 0.7 > dissimilar
    assert grade(paraphrase, "definition_location", DEFINITION, vocab).correct
