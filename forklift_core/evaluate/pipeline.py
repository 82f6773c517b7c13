"""Evaluate a run: answers from base and tuned (and both with retrieved evidence), scored item by item."""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any, Sequence

from forklift_core.config import EvalConfig
from forklift_core.curate.store import CurationStore
from forklift_core.errors import BadInputError
from forklift_core.evaluate.answering import BASE, TUNED, RunModels, answer_all, load_run_models
from forklift_core.evaluate.items import EvalItem, eval_items, match_question, trained_facts
from forklift_core.evaluate.metrics import chrf, cosine, grade, unknown_names
from forklift_core.evaluate.name_check import index_checked
from forklift_core.evaluate.path_guard import PathIndex
from forklift_core.evaluate.report import build_report, write_report
from forklift_core.evaluate.retention import retention_prompts
from forklift_core.evaluate.retrieval import Retriever
from forklift_core.evidence import Evidence, with_context
from forklift_core.generate.grounding import Vocabulary, ungrounded_mentions
from forklift_core.ingest.tables import IndexReader
from forklift_core.models import Embedder
from forklift_core.progress import Progress
from forklift_core.workspace import Workspace

CONTEXT = "+context"
GUARD = "+guard"


def score_answers(items: Sequence[EvalItem], answers: Sequence[str], embedder: Any, vocab: Vocabulary,
                  line_tolerance: int) -> list[dict[str, Any]]:
    """Similarity, chrF, fact accuracy and unknown names of each answer against its item."""
    references = [item.reference for item in items]
    similarities = cosine(embedder, answers, references)
    chrfs = chrf(answers, references)
    scored = []
    for item, answer, similarity, chrf_score in zip(items, answers, similarities, chrfs):
        grounding = grade(answer, item.family, item.fact_data, vocab, line_tolerance)
        scored.append({"text": answer, "similarity": similarity, "chrf": chrf_score,
                       "correct": grounding.correct, "unknown_names": grounding.unknown_names,
                       "file_correct": grounding.file_correct, "abstains": grounding.abstains})
    return scored


class Evaluation:
    """What evaluating one run needs loaded once: its models, the index vocabulary, the embedder, a retriever."""

    def __init__(self, workspace: Workspace, project: str, run_id: str, config: EvalConfig,
                 models: RunModels | None = None, embedder: Any | None = None) -> None:
        self.paths = workspace.project(project)
        self.run_dir = self.paths.runs_dir / run_id
        self.config = config
        self.store = CurationStore(self.paths.curation_db)
        reader = IndexReader(self.paths)
        self.vocab = Vocabulary.from_index(reader)
        self.models = models or load_run_models(self.run_dir)
        self.embedder = embedder or Embedder(config.embedder)
        self.retriever = Retriever(reader.symbols(), self.embedder, self.paths)
        self.paths_index = PathIndex(reader.table("files")["path"].to_pylist())
        self._grounding: dict[str, tuple[list[Evidence], list[str]]] = {}

    def prompts_for(self, questions: Sequence[str], system: str) -> list[str]:
        """The prompts one system sees: the bare questions, or the questions with their index records."""
        if not system.endswith(CONTEXT):
            return list(questions)
        return [with_context(question, records, missing)
                for question, (records, missing) in zip(questions, self.grounding(questions))]

    def grounding(self, questions: Sequence[str]) -> list[tuple[list[Evidence], list[str]]]:
        """For each question, the index records a grounded answer reads and the names it asks about that are not
        there; retrieved once per question (every grounded system, and the Compare tab's list, share them)."""
        new = [q for q in dict.fromkeys(questions) if q not in self._grounding]
        if new:
            for question, records in zip(new, self.retriever.retrieve(new, self.config.context_snippets)):
                self._grounding[question] = (records, ungrounded_mentions(question, self.vocab))
        return [self._grounding[q] for q in questions]

    def answers(self, system: str, questions: Sequence[str], progress: Progress, start: float,
                span: float) -> list[str]:
        """One system's greedy answers to the questions, batched, reporting progress."""
        checked = self.index_checked(questions, system)
        asked = [q for i, q in enumerate(questions) if i not in checked]
        prompts = self.prompts_for(asked, system)
        model = system.split("+")[0]
        generated = iter(answer_all(self.models, model, prompts, self.config.batch_size, self.config.max_new_tokens,
                                    lambda done: progress.report(start + span * done / max(len(prompts), 1),
                                                                 f"{system}: {done}/{len(prompts)} answers"),
                                    self.paths_index if system.endswith(GUARD) else None))
        return [checked[i] if i in checked else next(generated) for i in range(len(questions))]

    def index_checked(self, questions: Sequence[str], system: str) -> dict[int, str]:
        """The answers the index check gives (by position): only for systems that consult the index."""
        consults_index = system.endswith(GUARD) or system.endswith(CONTEXT)
        return index_checked(questions, self.vocab) if self.config.name_check and consults_index else {}

    def score_pair(self, question: str, answers: dict[str, str]) -> dict[str, Any]:
        """Scores of a free question's answers: against the reference when it is a dataset question, names always."""
        item = match_question(self.store, question)
        systems = list(answers)
        texts = [answers[s] for s in systems]
        scores: dict[str, Any] = {"item": asdict(item) if item else None, "answers": {}}
        if item is not None:
            for system, scored in zip(systems, score_answers([item] * len(texts), texts, self.embedder, self.vocab,
                                                             self.config.line_tolerance)):
                scores["answers"][system] = scored
        else:
            for system, text in answers.items():
                scores["answers"][system] = {"text": text, "unknown_names": unknown_names(text, self.vocab)}
        if BASE in answers and TUNED in answers:
            scores["mutual_similarity"] = cosine(self.embedder, [answers[BASE]], [answers[TUNED]])[0]
        return scores

    def ask(self, question: str, guard: bool = False, grounded: bool = False) -> dict[str, Any]:
        """Base and tuned answers to one question (and guarded, grounded ones when asked for), with their scores."""
        return self.ask_many([question], guard, grounded)[0]

    def ask_many(self, questions: Sequence[str], guard: bool = True, grounded: bool = False,
                 progress: Progress | None = None) -> list[dict[str, Any]]:
        """Every question answered by each system in batches, then scored like `score_pair`."""
        questions = [q.strip() for q in questions if q.strip()]
        if not questions:
            raise BadInputError("type a question first")
        systems = [BASE, TUNED] + ([TUNED + GUARD] if guard else []) + ([TUNED + CONTEXT] if grounded else [])
        progress = progress or Progress()
        answered = {system: self.answers(system, questions, progress, n / len(systems), 1 / len(systems))
                    for n, system in enumerate(systems)}
        results = []
        for index, question in enumerate(questions):
            scored = self.score_pair(question, {system: answered[system][index] for system in systems})
            results.append({"question": question, **scored})
        return results

    def run(self, progress: Progress | None = None) -> dict[str, Any]:
        """Evaluate every system on the test items and the retention prompts; write and return the report."""
        progress = progress or Progress()
        config = self.config
        items = eval_items(self.run_dir / "dataset", self.store, config.limit, config.seed,
                           trained_facts(self.run_dir), config.test_kinds)
        systems = [BASE, TUNED] + ([TUNED + GUARD] if config.path_guard else []) + \
            ([BASE + CONTEXT] if config.with_context and config.grounded_base else []) + \
            ([TUNED + CONTEXT] if config.with_context else [])
        retention = retention_prompts() if config.retention else []
        steps = len(systems) + (2 if retention else 0)
        results: dict[str, list[dict[str, Any]]] = {}
        seconds: dict[str, float] = {}
        questions = [item.question for item in items]
        for n, system in enumerate(systems):
            started = time.perf_counter()
            answers = self.answers(system, questions, progress, n / steps, 1 / steps)
            seconds[system] = time.perf_counter() - started
            results[system] = score_answers(items, answers, self.embedder, self.vocab, config.line_tolerance)
        retained: list[dict[str, Any]] = []
        if retention:
            base = self.answers(BASE, retention, progress, len(systems) / steps, 1 / steps)
            tuned = self.answers(TUNED, retention, progress, (len(systems) + 1) / steps, 1 / steps)
            retained = [{"prompt": p, "base": b, "tuned": t, "similarity": s}
                        for p, b, t, s in zip(retention, base, tuned, cosine(self.embedder, tuned, base))]
        report = build_report(self.run_dir.name, [asdict(i) for i in items], results, retained,
                              {"generation_seconds": seconds, "item_count": len(items), "config": config.to_dict()})
        write_report(report, self.run_dir / "eval")
        progress.report(1.0, f"evaluated {len(items)} items")
        return report


def evaluate_run(workspace: Workspace, project: str, run_id: str, config: EvalConfig | None = None,
                 progress: Progress | None = None) -> dict[str, Any]:
    """Evaluate one run of a project and write runs/<run>/eval/{report.json, report.md, *.png}."""
    return Evaluation(workspace, project, run_id, config or EvalConfig()).run(progress)
