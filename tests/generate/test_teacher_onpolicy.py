"""The optional teacher (a real local OpenAI-compatible server) and on-policy negatives (a real tiny Llama)."""

from __future__ import annotations

import pytest

from forklift_core.config import GenerateConfig
from forklift_core.curate.store import CurationStore
from forklift_core.errors import ToolError
from forklift_core.generate.answers import states_fact
from forklift_core.generate.pipeline import generate
from forklift_core.ingest.index import ingest
from tests.conftest import POLYGLOT
from tests.generate.openai_server import ScriptedChatServer, codebase_teacher


def _teacher_config(url: str, **kwargs) -> GenerateConfig:
    return GenerateConfig(teacher_url=url, teacher_model="scripted", teacher_paraphrases=2, teacher_max_facts=500,
                          teacher_concurrency=3, families=("definition_location", "purpose"), **kwargs)


def test_teacher_paraphrases_explains_retries_and_caches(workspace) -> None:
    ingest(str(POLYGLOT), "poly", workspace)
    with ScriptedChatServer(codebase_teacher, rate_limit_first=2) as server:
        summary = generate("poly", workspace, _teacher_config(server.url))
        first_round = len(server.requests)
        assert server.rate_limited == 2 and first_round > 20  # retried after the 429s
        store = CurationStore(workspace.project("poly").curation_db)
        teacher_questions = [p for p in store.pairs(kind="sft") if p["template_id"].startswith("teacher.")
                             and p["template_id"] != "teacher.explain"]
        assert teacher_questions and all("`" in p["question"] for p in teacher_questions)
        assert not any("unrelated" in p["question"] for p in teacher_questions)
        explained = {p["question"].split("`")[1]: p for p in store.pairs(kind="sft")
                     if p["template_id"] == "teacher.explain"}
        flagged = explained["Circle.area"]
        assert flagged["status"] == "flagged" and "geometry/helpers_v2.py" in flagged["flags"]
        assert explained["vector_length"]["status"] == "needs_review"  # teacher prose is never accepted unread
        assert summary["flagged"] >= 1
        again = generate("poly", workspace, _teacher_config(server.url))
        assert len(server.requests) == first_round  # every request came from the cache
        assert again["sft_pairs"] == summary["sft_pairs"]


def test_teacher_failure_is_a_clear_error(workspace) -> None:
    ingest(str(POLYGLOT), "poly", workspace)
    with ScriptedChatServer(codebase_teacher, rate_limit_first=100) as server:
        with pytest.raises(ToolError, match="teacher request failed"):
            generate("poly", workspace, _teacher_config(server.url, teacher_max_retries=1))


def test_onpolicy_negatives_keep_only_wrong_model_answers(workspace, tiny_llama_dir) -> None:
    ingest(str(POLYGLOT), "poly", workspace)
    config = GenerateConfig(negatives=("hard", "onpolicy"), onpolicy_model=str(tiny_llama_dir),
                            onpolicy_max_prompts=12, onpolicy_batch_size=4, onpolicy_max_new_tokens=8)
    summary = generate("poly", workspace, config)
    store = CurationStore(workspace.project("poly").curation_db)
    onpolicy = [p for p in store.pairs(kind="dpo") if p["negative_kind"] == "on_policy"]
    assert summary["by_negative_kind"]["on_policy"] == len(onpolicy) > 0
    for pair in onpolicy:
        fact = store.fact(pair["fact_id"])
        assert pair["rejected"] and pair["rejected"] != pair["answer"]
        assert not states_fact(pair["rejected"], fact["family"], fact["data"])
        assert pair["split"] == "train"


def test_public_space_refuses_a_private_teacher(workspace) -> None:
    from forklift_core.errors import BadInputError

    ingest(str(POLYGLOT), "poly", workspace)
    config = GenerateConfig(teacher_url="http://169.254.169.254/v1", teacher_model="x", teacher_allow_private=False)
    with pytest.raises(BadInputError, match="private or local address"):
        generate("poly", workspace, config)
