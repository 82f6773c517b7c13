"""Retrieval benchmark: the first grounded answer's retrieval on a large index, vectors embedded now vs stored.

Run with `.venv/bin/python bench/retrieval.py [--symbols 88000]`. Ingests the kernel-sized tree of bench/ingest.py
(cached), takes the first N symbols, and times a fresh Retriever answering one question twice: with no stored
vectors (every symbol embedded first: what each `forklift ask --grounded` paid before vectors were kept) and with
the vectors kept beside the index (what every later process pays). Prints both and the ratio; then re-embeds after
one symbol changed (only that one is embedded).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from repos import kernel_tree  # noqa: E402

from forklift_core.evaluate.retrieval import Retriever  # noqa: E402
from forklift_core.ingest.index import ingest  # noqa: E402
from forklift_core.ingest.tables import IndexReader  # noqa: E402
from forklift_core.models import Embedder  # noqa: E402
from forklift_core.workspace import Workspace  # noqa: E402

QUESTION = "Where is the flurb wrangled?"  # names nothing in the index: retrieval goes by embedding


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--symbols", type=int, default=88_000)
    args = parser.parse_args()
    embedder = Embedder()
    with tempfile.TemporaryDirectory() as folder:
        workspace = Workspace(Path(folder))
        ingest(str(kernel_tree()), "kernel", workspace)
        paths = workspace.project("kernel")
        symbols = IndexReader(paths).table("symbols").slice(0, args.symbols).select(
            ["id", "name", "kind", "path", "line", "scope", "signature"]).to_pylist()
        print(f"{len(symbols)} symbols of the kernel-sized tree; embedder {embedder.resolved.model_id}")
        started = time.perf_counter()
        Retriever(symbols, embedder, paths).retrieve([QUESTION], 5)
        cold = time.perf_counter() - started
        started = time.perf_counter()
        found = Retriever(symbols, embedder, paths).retrieve([QUESTION], 5)
        warm = time.perf_counter() - started
        print(f"first grounded retrieval, vectors embedded now:  {cold:8.1f} s")
        print(f"first grounded retrieval, vectors kept:          {warm:8.1f} s  ({cold / warm:.0f}x faster)")
        print("  found: " + ", ".join(f"{e.name} ({e.path}:{e.line})" for e in found[0]))
        symbols[0] = {**symbols[0], "signature": "(changed)"}
        started = time.perf_counter()
        Retriever(symbols, embedder, paths).retrieve([QUESTION], 5)
        print(f"after one symbol changed (one re-embedded):      {time.perf_counter() - started:8.1f} s")


if __name__ == "__main__":
    main()
