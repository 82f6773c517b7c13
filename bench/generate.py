"""Generate benchmark: pairs/s on the installed transformers source, and on-policy generation batched vs one at a time.

Run with `.venv/bin/python bench/generate.py`. Prints the figures and the batched/sequential ratio; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from forklift_core.config import GenerateConfig
from forklift_core.generate.onpolicy import generate_answers
from forklift_core.generate.pipeline import generate
from forklift_core.ingest.index import ingest
from forklift_core.models import DEFAULT_LM_ID, load_lm
from forklift_core.progress import Progress
from forklift_core.workspace import Workspace

sys.path.insert(0, str(Path(__file__).resolve().parent))
from repos import add_function, linked_copy  # noqa: E402


def pairs_per_second(tree: Path, workspace: Workspace, touch: str) -> None:
    """Ingest once, time the generate stage alone (hard negatives, secrets scanned), then the regeneration with
    nothing changed and after one file changed (re-ingested), each as a ratio to the first generation."""
    ingest(str(tree), "bench", workspace)
    started = time.perf_counter()
    summary = generate("bench", workspace, GenerateConfig())
    seconds = time.perf_counter() - started
    pairs = summary["sft_pairs"] + summary["dpo_pairs"]
    print(f"generate on {tree.name}: {summary['facts']} facts, {summary['sft_pairs']} Q&A + {summary['dpo_pairs']} "
          f"preference pairs in {seconds:.1f} s = {pairs / seconds:.0f} pairs/s "
          f"(secrets redacted: {summary['secrets_redacted']})")
    started = time.perf_counter()
    again = generate("bench", workspace, GenerateConfig())
    unchanged = time.perf_counter() - started
    print(f"regenerate, nothing changed: {unchanged:.1f} s = {unchanged / seconds:.2f}x of the first, "
          f"{again['store']['written']} pairs and {again['store']['facts_written']} facts written")
    add_function(tree / touch)  # in the hard-linked copy
    ingest(str(tree), "bench", workspace)
    started = time.perf_counter()
    changed = generate("bench", workspace, GenerateConfig())
    one = time.perf_counter() - started
    print(f"regenerate after one file changed: {one:.1f} s = {one / seconds:.2f}x of the first, "
          f"{changed['store']['written']} of {changed['store']['stored']} pairs and "
          f"{changed['store']['facts_written']} facts written")


def onpolicy_throughput(workspace: Workspace, prompts: int, batch_size: int, max_new_tokens: int) -> None:
    """Tokens/s of greedy answers on the embedded SmolLM2: batches of `batch_size` against one prompt at a time."""
    import torch

    model, tokenizer = load_lm(DEFAULT_LM_ID, workspace.models_dir)
    torch.manual_seed(0)
    questions = [f"Where is `function_{i}` defined in the project, and what does it return?" for i in range(prompts)]
    results = {}
    for label, size in (("one at a time", 1), (f"batches of {batch_size}", batch_size)):
        started = time.perf_counter()
        answers = generate_answers(questions, model, tokenizer, size, max_new_tokens, Progress())
        seconds = time.perf_counter() - started
        tokens = sum(len(tokenizer(a, add_special_tokens=False)["input_ids"]) for a in answers)
        results[label] = tokens / seconds
        print(f"on-policy {label:>15}: {len(answers)} answers, {tokens} tokens in {seconds:.1f} s = "
              f"{tokens / seconds:.1f} tokens/s")
    sequential, batched = results["one at a time"], results[f"batches of {batch_size}"]
    print(f"batched / sequential tokens/s: {batched / sequential:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("tree", nargs="?", type=Path)
    parser.add_argument("--touch", default="utils/__init__.py", help="the file changed before the regeneration")
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=48)
    args = parser.parse_args()
    if args.tree is None:
        import transformers

        args.tree = Path(transformers.__file__).parent
    with linked_copy(args.tree) as scratch:
        pairs_per_second(scratch / "tree", Workspace(scratch / "ws"), args.touch)
        onpolicy_throughput(Workspace.default(), args.prompts, args.batch_size, args.max_new_tokens)


if __name__ == "__main__":
    main()
