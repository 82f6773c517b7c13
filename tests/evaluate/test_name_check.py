"""The index check: questions about absent names are answered by the index, real names go to the model."""

from __future__ import annotations

from forklift_core.evaluate.metrics import grade
from forklift_core.evaluate.name_check import absent_names, asked_names, index_check, index_checked
from forklift_core.generate.grounding import Vocabulary

VOCAB = Vocabulary.build(
    ["src/store.py", "src/cli.py"],
    [{"name": "Store", "scope": "", "signature": ""},
     {"name": "read", "scope": "Store", "signature": "(self, key)"},
     {"name": "load_config", "scope": "", "signature": "(path)"}])


def test_code_names_are_found_backticked_or_bare_and_prose_is_not() -> None:
    assert asked_names("Where is fetch_all_cookies defined?") == ["fetch_all_cookies"]
    assert asked_names("What does Store.read do?") == ["Store.read"]
    assert asked_names("Where is `LRUCache` defined?") == ["LRUCache"]
    assert asked_names("what does load() return?") == ["load"]
    # English, product names, flags, commands and paths are not names to check.
    assert asked_names("How do I install this on macOS from GitHub, e.g. with pip?") == []
    assert asked_names("What does `--verbose` do, and what does `make test` run?") == []
    assert asked_names("What is in src/store.py?") == []


def test_only_questions_whose_every_name_is_absent_are_answered_by_the_index() -> None:
    assert absent_names("Where is load_configs defined?", VOCAB) == ["load_configs"]
    assert absent_names("Where is `Store.read` defined?", VOCAB) == []
    assert absent_names("Does `Store.read` call fetch_everything?", VOCAB) == []  # one real name: the model answers
    assert absent_names("where does the store read its keys?", VOCAB) == []


def test_the_index_answer_abstains_names_the_closest_real_name_and_invents_nothing() -> None:
    answer = index_check("Where is load_configs defined?", VOCAB)
    assert answer is not None and "load_configs" in answer and "`load_config`" in answer
    graded = grade(answer, "absent_symbol", {"label": "load_configs"}, VOCAB)
    assert graded.abstains and not graded.unknown_names
    assert index_check("Where is `Store` defined?", VOCAB) is None
    assert index_checked(["Where is `Store` defined?", "Where is HttpClient.send_all defined?"], VOCAB).keys() == {1}
