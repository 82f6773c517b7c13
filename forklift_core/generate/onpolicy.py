"""On-policy negatives: the base model's own answers, kept as rejected only when verifiably wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from forklift_core.config import GenerateConfig
from forklift_core.generate.answers import states_fact
from forklift_core.generate.split import stable_fraction
from forklift_core.models import chat_generate, load_lm
from forklift_core.progress import Progress
from forklift_core.records import Fact, PreferencePair, QAPair, stable_id


def choose_prompts(pairs: Sequence[QAPair], config: GenerateConfig) -> list[QAPair]:
    """A deterministic sample of training questions (one per fact, spread across families)."""
    per_fact: dict[str, QAPair] = {}
    for pair in sorted(pairs, key=lambda p: stable_fraction(config.seed, "onpolicy", p.id)):
        if pair.split == "train" and not pair.needs_review:
            per_fact.setdefault(pair.fact_id, pair)
    return list(per_fact.values())[: config.onpolicy_max_prompts]


def generate_answers(prompts: Sequence[str], model: object, tokenizer: object, batch_size: int, max_new_tokens: int,
                     progress: Progress, start: float = 0.6, span: float = 0.3) -> list[str]:
    """Greedy answers in left-padded batches, reporting progress after each batch."""
    answers: list[str] = []
    for offset in range(0, len(prompts), batch_size):
        answers.extend(chat_generate(model, tokenizer, prompts[offset:offset + batch_size], max_new_tokens))
        progress.report(start + span * len(answers) / max(len(prompts), 1),
                        f"base model answers: {len(answers)}/{len(prompts)}")
    return answers


def onpolicy_negatives(pairs: Sequence[QAPair], facts: dict[str, Fact], config: GenerateConfig, models_dir: Path,
                       progress: Progress) -> list[PreferencePair]:
    """Preference pairs whose rejected answer is what the base model says when it does not state the fact."""
    chosen = choose_prompts(pairs, config)
    if not chosen:
        return []
    progress.report(0.6, f"loading {config.onpolicy_model} for on-policy negatives")
    model, tokenizer = load_lm(config.onpolicy_model, models_dir)
    answers = generate_answers([p.question for p in chosen], model, tokenizer, config.onpolicy_batch_size,
                               config.onpolicy_max_new_tokens, progress)
    out = []
    for pair, answer in zip(chosen, answers):
        fact = facts[pair.fact_id]
        if answer and answer != pair.answer and not states_fact(answer, fact.family, fact.data):
            out.append(PreferencePair(id=stable_id("dpo", pair.fact_id, pair.template_id, "on_policy"),
                                      fact_id=pair.fact_id, family=pair.family, template_id=pair.template_id,
                                      prompt=pair.question, chosen=pair.answer, rejected=answer,
                                      negative_kind="on_policy", split=pair.split, test_kind=pair.test_kind))
    return out
