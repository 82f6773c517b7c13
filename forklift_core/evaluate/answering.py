"""Answers from a run's base model and from base + adapter: batched for evaluation, streamed for the Compare tab."""

from __future__ import annotations

import threading
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import yaml

from forklift_core.errors import BadInputError
from forklift_core.evaluate.path_guard import PathIndex, guard_paths
from forklift_core.models import chat_generate

BASE, TUNED = "base", "tuned"


@dataclass
class RunModels:
    """One base model with the run's adapter attached; the adapter is switched off for base answers."""

    model: Any
    tokenizer: Any
    adapter_dir: Path
    # Switching the adapter off is global to the model: one user of it at a time (the app serves many sessions).
    lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def use(self, system: str) -> Iterator[Any]:
        """The model as `system` ('base' or 'tuned') for the duration of the block."""
        if system not in (BASE, TUNED):
            raise BadInputError(f"unknown system {system!r}")
        with self.lock, self.model.disable_adapter() if system == BASE else nullcontext():
            yield self.model


def load_run_models(run_dir: Path) -> RunModels:
    """The base model named in the run's plan, with the run's final adapter (PEFT layout) on top."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    adapter = run_dir / "adapter"
    if not (adapter / "adapter_config.json").is_file():
        raise BadInputError(f"run {run_dir.name} has no adapter yet (it has not completed)")
    plan = yaml.safe_load((run_dir / "plan.yaml").read_text())
    base_path = plan.get("base_model_path") or plan["base_model"]
    tokenizer = AutoTokenizer.from_pretrained(base_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    base = AutoModelForCausalLM.from_pretrained(base_path, dtype=torch.float32)
    model = PeftModel.from_pretrained(base, str(adapter))
    model.eval()
    return RunModels(model, tokenizer, adapter)


def answer_all(models: RunModels, system: str, prompts: Sequence[str], batch_size: int, max_new_tokens: int,
               on_batch: Callable[[int], None] | None = None, paths: PathIndex | None = None) -> list[str]:
    """Greedy answers of one system, in left-padded batches (on_batch(done) after each; it may raise to cancel).

    With `paths`, decoding is path-guarded: a backticked path can only be one the index holds.
    """
    guard = (lambda prompt_length: guard_paths(paths, models.tokenizer, prompt_length)) if paths else None
    # Prompts of similar length share a batch (little left padding to compute); answers return in the callers' order.
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    answers: dict[int, str] = {}
    with models.use(system) as model:
        for offset in range(0, len(order), batch_size):
            chunk = order[offset:offset + batch_size]
            texts = chat_generate(model, models.tokenizer, [prompts[i] for i in chunk], max_new_tokens, guard)
            answers.update(zip(chunk, texts))
            if on_batch is not None:
                on_batch(len(answers))
    return [answers[i] for i in range(len(prompts))]


def stream_answer(models: RunModels, system: str, prompt: str, max_new_tokens: int,
                  paths: PathIndex | None = None) -> Iterator[str]:
    """The growing text of one greedy answer, as the tokens come (path-guarded with `paths`)."""
    from transformers import TextIteratorStreamer

    tokenizer = models.tokenizer
    text = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                         add_generation_prompt=True)
    inputs = tokenizer(text, return_tensors="pt", add_special_tokens=False)
    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
    failure: list[BaseException] = []

    def work() -> None:
        import torch

        try:
            with torch.no_grad(), models.use(system) as model:
                guard = guard_paths(paths, tokenizer, inputs["input_ids"].shape[1]) if paths else None
                model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False, streamer=streamer,
                               pad_token_id=tokenizer.pad_token_id, logits_processor=guard)
        except BaseException as exc:  # surfaced to the caller after the stream ends
            failure.append(exc)
            streamer.end()

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    so_far = ""
    for piece in streamer:
        so_far += piece
        yield so_far.strip()
    worker.join()
    if failure:
        raise failure[0]
