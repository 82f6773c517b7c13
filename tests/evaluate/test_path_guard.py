"""Path-guarded decoding: a backticked path can only be one the index holds; other text is left alone."""

from __future__ import annotations

import torch

from forklift_core.generate.grounding import looks_like_path
from forklift_core.evaluate.path_guard import PathGuardProcessor, PathIndex, open_span, token_allowed

PATHS = ["py/shapes/geometry.py", "c/stack.c", "c/stack.h", "README.md"]


def _tokenizer(tiny_llama_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_llama_dir)


def _decode_guarded(tokenizer, prompt: str, steps: int, seed: int, bias: list[int] | None = None) -> str:
    """A greedy loop over random scores (as an untrained model would give), guarded; returns what it wrote."""
    generator = torch.Generator().manual_seed(seed)
    prompt_ids = tokenizer(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
    ids = prompt_ids.clone()
    guard = PathGuardProcessor(PathIndex(PATHS), tokenizer, prompt_length=0)
    for _ in range(steps):
        scores = torch.randn(1, len(tokenizer), generator=generator)
        for token in bias or []:
            scores[0, token] += 8.0  # the model "wants" these tokens: an invented path
        scores = guard(ids, scores)
        ids = torch.cat([ids, scores.argmax(-1, keepdim=True)], dim=1)
    return tokenizer.decode(ids[0], skip_special_tokens=True)


def test_the_guard_never_writes_a_path_outside_the_index(tiny_llama_dir) -> None:
    tokenizer = _tokenizer(tiny_llama_dir)
    index = PathIndex(PATHS)
    invented = tokenizer("src/imaginary/magic.py`", add_special_tokens=False)["input_ids"]
    for seed in range(6):
        text = _decode_guarded(tokenizer, "`stack_push` is defined in `", steps=16, seed=seed, bias=invented)
        spans = text.split("`")[1::2]  # what is inside backticks (the last may still be open)
        closed = text.count("`") % 2 == 0
        for number, span in enumerate(spans):
            if not (looks_like_path(span) or "/" in span):
                continue
            if number < len(spans) - 1 or closed:
                assert index.can_close(span), text  # a closed path span is a whole path of the index
            else:
                assert index.can_continue(span), text  # an open one is on the way to one
        assert "imaginary" not in text and "src/" not in text


def test_other_text_is_left_alone(tiny_llama_dir) -> None:
    tokenizer = _tokenizer(tiny_llama_dir)
    guard = PathGuardProcessor(PathIndex(PATHS), tokenizer, prompt_length=0)
    for prompt in ("A stack is a list where", "Call `stack_push` with"):  # prose, and a backticked name
        ids = tokenizer(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
        scores = torch.randn(1, len(tokenizer))
        assert torch.equal(guard(ids, scores.clone()), scores)
    assert guard.interventions == 0


def test_token_rules() -> None:
    index = PathIndex(PATHS)
    assert token_allowed(index, "c/st", "ack") and not token_allowed(index, "c/st", "ory")
    assert token_allowed(index, "c/stack.c", "`") and not token_allowed(index, "c/sta", "`")
    assert token_allowed(index, "c/stack.c", ":12") and token_allowed(index, "Queue", ".push")
    assert not token_allowed(index, "src", "/") and token_allowed(index, "py", "/")
    assert token_allowed(index, "geometry", ".py") and not token_allowed(index, "magic", ".py")
    assert open_span("see `c/st") == ("see ", "c/st") and open_span("see `c/stack.c`") is None


def test_grounded_prompts_carry_the_gold_record() -> None:
    from forklift_core.evaluate.retrieval import Retriever
    from forklift_core.evidence import with_context

    def symbol(name: str, scope: str, path: str, line: int) -> dict:
        return {"id": f"{scope}.{name}", "name": name, "scope": scope, "path": path, "line": line, "kind": "method",
                "signature": "(self)", "doc": f"{name.title()} it."}

    symbols = [symbol("read", "Reader", "pkg/reader.py", 4), symbol("read", "Store", "pkg/store.py", 40),
               symbol("write", "Store", "pkg/store.py", 50)]
    question = "Where is `Store.read` defined?"
    evidence = Retriever(symbols).retrieve([question], k=2)[0]
    assert (evidence[0].path, evidence[0].line) == ("pkg/store.py", 40)  # the exact label before a namesake
    prompt = with_context(question, evidence)
    assert "- pkg/store.py:40 method `Store.read(self)`\n" in prompt and len(evidence) == 2  # plus a distractor
    assert prompt.endswith(question)
    absent = with_context("Where is `Store.reads`?", evidence, missing=["Store.reads"])
    assert "The index has no symbol, file or folder named `Store.reads`." in absent  # the exact lookup found nothing
