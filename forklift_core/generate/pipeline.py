"""The generate stage: index -> facts -> (teacher) -> phrasings -> splits -> pairs -> curation store."""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import replace
from typing import Any, Iterator

from forklift_core import __version__
from forklift_core.config import GenerateConfig
from forklift_core.curate.store import CurationStore
from forklift_core.generate.answers import render
from forklift_core.generate.facts import IndexView, build_facts
from forklift_core.generate.grounding import Vocabulary, ungrounded_mentions
from forklift_core.generate.negatives import hard_negatives
from forklift_core.generate.secrets import CleanTexts, SecretHit, SecretRedactor
from forklift_core.generate.split import plan_splits
from forklift_core.generate.templates import Template, phrasings
from forklift_core.ingest.tables import IndexReader
from forklift_core.netguard import require_public_url
from forklift_core.progress import Progress
from forklift_core.records import Fact, PreferencePair, QAPair, stable_id
from forklift_core.versions import package_version
from forklift_core.workspace import Workspace


def _strings(value: Any) -> Iterator[str]:
    """Every string inside a fact's evidence or data."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)


def _redacted(value: Any, redactor: SecretRedactor) -> Any:
    if isinstance(value, str):
        return redactor.redact(value)
    if isinstance(value, list):
        return [_redacted(v, redactor) for v in value]
    if isinstance(value, dict):
        return {k: _redacted(v, redactor) for k, v in value.items()}
    return value


def redact_facts(facts: list[Fact], redactor: SecretRedactor | None = None) -> tuple[list[Fact], list[SecretHit]]:
    """Facts with secrets removed from their evidence and fields, before any answer is rendered from them.

    Two passes: every fact is scanned first, so a value detected in any one fact is removed from all of them.
    """
    redactor = redactor or SecretRedactor()
    for fact in facts:
        for text in (*_strings(fact.evidence), *_strings(fact.data)):
            redactor.learn(text, fact.path, fact.line)
    cleaned = [replace(f, evidence=_redacted(f.evidence, redactor), data=_redacted(f.data, redactor)) for f in facts]
    return cleaned, redactor.hits


def _teacher_additions(facts: list[Fact], config: GenerateConfig, paths: Any, vocab: Vocabulary, api_key: str | None,
                       progress: Progress) -> tuple[dict[str, list[str]], dict[str, tuple[str, list[str]]]]:
    """Extra phrasings per fact and checked explanations for purpose facts, from the optional teacher."""
    if not (config.teacher_url or config.teacher_model):
        return {}, {}
    from forklift_core.generate.teacher import Teacher

    if config.teacher_url and not config.teacher_allow_private:
        require_public_url(config.teacher_url)  # a visitor must not reach into the server's own network
    teacher = Teacher.from_config(config, paths.root / "teacher_cache.sqlite", api_key)
    chosen = facts[: config.teacher_max_facts]
    progress.report(0.3, f"teacher: paraphrasing {len(chosen)} questions")
    paraphrases = teacher.paraphrase_all([(f.id, phrasings(f, 1)[0][1], f.data.get("label", f.subject)) for f in chosen],
                                         config.teacher_paraphrases)
    purpose = [f for f in chosen if f.family == "purpose"]
    progress.report(0.45, f"teacher: explaining {len(purpose)} symbols")
    explained = teacher.explain_all([(f.id, f.data["label"], f.evidence) for f in purpose])
    checked = {fid: (text, ungrounded_mentions(text, vocab)) for fid, text in explained.items() if text}
    return paraphrases, checked


def generate(project: str, workspace: Workspace, config: GenerateConfig | None = None,
             progress: Progress | None = None, teacher_api_key: str | None = None) -> dict[str, Any]:
    """Write grounded pairs for a project into its curation store and return the counts."""
    config = config or GenerateConfig()
    progress = progress or Progress()
    started = time.perf_counter()
    paths = workspace.project(project)
    manifest = paths.read_manifest()
    progress.report(0.02, "reading the index")
    view = IndexView.load(IndexReader(paths))
    facts = build_facts(view, config)
    progress.report(0.15, f"{len(facts)} facts; scanning for secrets")
    hits: list[SecretHit] = []
    redactor = SecretRedactor(CleanTexts(paths.root / "secret_scan_clean.bin"))
    if config.scan_secrets:
        facts, hits = redact_facts(facts, redactor)
    vocab = Vocabulary.build(view.paths, view.symbols, [f["command"] for f in view.build_facts])
    paraphrases, explanations = _teacher_additions(facts, config, paths, vocab, teacher_api_key, progress)
    questions: dict[str, list[tuple[Template, str]]] = {}
    for fact in facts:
        own = phrasings(fact, config.phrasings_per_fact)
        extra = [(Template(f"teacher.{i}", ""), text) for i, text in enumerate(paraphrases.get(fact.id, []), 1)]
        questions[fact.id] = own + extra
    plan = plan_splits(facts, config, {fid: len(q) for fid, q in questions.items()})
    qa: list[QAPair] = []
    prefs: list[PreferencePair] = []
    seen_questions: set[str] = set()
    progress.report(0.5, "writing pairs")
    for fact in facts:
        full, concise = render(fact.family, fact.data)
        # A generator per fact: its wrong answers do not change when another fact comes or goes.
        rng = random.Random(f"{config.seed}:{fact.id}")
        negatives = hard_negatives(view, fact, rng) if "hard" in config.negatives else []
        for index, (template, text) in enumerate(questions[fact.id]):
            if text in seen_questions:
                continue  # one question text, one pair: a test phrasing can never also be a training one
            seen_questions.add(text)
            split, test_kind = plan.place(fact.id, index)
            qa.append(QAPair(stable_id("sft", fact.id, template.id), fact.id, fact.family, template.id, text, full,
                             concise, split, test_kind, fact.needs_review))
            if negatives:
                kind, rejected = negatives[index % len(negatives)]
                prefs.append(PreferencePair(stable_id("dpo", fact.id, template.id, kind), fact.id, fact.family,
                                            template.id, text, full, rejected, kind, split, test_kind,
                                            fact.needs_review))
        if fact.id in explanations:
            text, unknown = explanations[fact.id]
            base = questions[fact.id][0]
            flags = f"ungrounded teacher output: {', '.join(sorted(set(unknown)))}" if unknown else ""
            split, test_kind = plan.place(fact.id, -1)
            qa.append(QAPair(stable_id("sft", fact.id, "teacher.explain"), fact.id, fact.family, "teacher.explain",
                             base[1] + " Explain in detail.", text, concise, split, test_kind, True, flags))
    if "onpolicy" in config.negatives:
        from forklift_core.generate.onpolicy import onpolicy_negatives

        prefs.extend(onpolicy_negatives(qa, {f.id: f for f in facts}, config, workspace.models_dir, progress))
    if config.scan_secrets:
        qa, prefs = _scan_answers(qa, prefs, redactor)
        hits = redactor.hits
    progress.report(0.95, f"storing {len(qa)} Q&A and {len(prefs)} preference pairs")
    meta = {"source": manifest.get("source"), "commit": manifest.get("commit"), "project": project,
            "generate_config": config.to_dict(), "forklift": __version__,
            "detect_secrets": package_version("detect-secrets"), "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                                      time.gmtime())}
    stored = CurationStore(paths.curation_db).replace_generated(facts, [*qa, *prefs], hits, meta)
    redactor.clean.save()  # after the store: a run that fails before it leaves the cache as it was
    summary = _summary(project, facts, qa, prefs, hits, stored, time.perf_counter() - started)
    progress.report(1.0, f"{len(qa)} Q&A and {len(prefs)} preference pairs")
    return summary


def _scan_answers(qa: list[QAPair], prefs: list[PreferencePair],
                  redactor: SecretRedactor) -> tuple[list[QAPair], list[PreferencePair]]:
    """A last pass over every text that enters a pair (teacher output and model answers included)."""
    texts = {t for p in qa for t in (p.question, p.answer, p.concise)}
    texts |= {t for p in prefs for t in (p.prompt, p.chosen, p.rejected)}
    for text in texts:
        redactor.learn(text)
    cleaned = {text: redactor.redact(text) for text in texts}
    qa = [replace(p, question=cleaned[p.question], answer=cleaned[p.answer], concise=cleaned[p.concise]) for p in qa]
    prefs = [replace(p, prompt=cleaned[p.prompt], chosen=cleaned[p.chosen], rejected=cleaned[p.rejected])
             for p in prefs]
    return qa, prefs


def _summary(project: str, facts: list[Fact], qa: list[QAPair], prefs: list[PreferencePair], hits: list[SecretHit],
             stored: dict[str, int], seconds: float) -> dict[str, Any]:
    def counts(values: Any) -> dict[str, int]:
        return dict(sorted(Counter(values).items()))

    return {
        "project": project, "facts": len(facts), "sft_pairs": len(qa), "dpo_pairs": len(prefs),
        "by_split": {"sft": counts(p.split for p in qa), "dpo": counts(p.split for p in prefs)},
        "by_family": counts(p.family for p in qa),
        "by_test_kind": counts(p.test_kind for p in qa if p.test_kind),
        "by_negative_kind": counts(p.negative_kind for p in prefs),
        "needs_review": sum(p.needs_review for p in qa), "flagged": sum(bool(p.flags) for p in qa),
        "secrets_redacted": len(hits), "secrets_by_kind": counts(h.kind for h in hits),
        "store": stored, "seconds": round(seconds, 3),
    }
