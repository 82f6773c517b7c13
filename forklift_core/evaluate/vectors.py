"""Symbol embeddings kept beside the index: computed once, read by every grounded answer after that.

Each vector is stored under the hash of the text it embeds (qualified name, kind, path, signature), so a
re-ingest reuses every vector whose symbol reads the same and embeds only the symbols that are new or changed.
The file lives in `<project>/vectors/` (not in `index/`, which a re-ingest replaces whole), one per embedder,
float16 (half the size; cosine ranking does not notice), written through a temporary file.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from forklift_core.progress import Progress
from forklift_core.workspace import ProjectPaths, atomic_path

_BATCH = 512  # texts embedded per step: progress moves, a cancel is honoured between steps


def symbol_text(symbol: dict[str, Any]) -> str:
    """What a symbol's vector embeds."""
    return f"{symbol['scope']}.{symbol['name']} {symbol['kind']} in {symbol['path']} {symbol['signature']}"


def _key(text: str) -> bytes:
    return hashlib.sha1(text.encode("utf-8")).digest()[:12]


def vectors_file(paths: ProjectPaths, model_id: str) -> Path:
    """Where the vectors of one embedder are kept for a project."""
    return paths.root / "vectors" / (re.sub(r"[^\w.-]+", "_", model_id) + ".npz")


def _load(path: Path) -> tuple[dict[bytes, int], np.ndarray]:
    if not path.is_file():
        return {}, np.zeros((0, 0), np.float16)
    with np.load(path) as stored:
        keys, matrix = stored["keys"], stored["vectors"]
    return {bytes(k): i for i, k in enumerate(keys)}, matrix


def symbol_vectors(paths: ProjectPaths, symbols: Sequence[dict[str, Any]], embedder: Any,
                   progress: Progress | None = None) -> np.ndarray:
    """A (len(symbols), dim) float32 matrix of unit vectors: stored ones reused, missing ones embedded and stored."""
    progress = progress or Progress()
    texts = [symbol_text(s) for s in symbols]
    keys = [_key(t) for t in texts]
    path = vectors_file(paths, embedder.resolved.model_id)
    known, stored = _load(path)
    missing = [i for i, k in enumerate(keys) if k not in known]
    fresh: list[np.ndarray] = []
    for start in range(0, len(missing), _BATCH):
        progress.report(start / max(len(missing), 1), f"embedding symbols: {start}/{len(missing)}")
        fresh.append(np.asarray(embedder.embed([texts[i] for i in missing[start:start + _BATCH]]), np.float16))
    dimension = fresh[0].shape[1] if fresh else stored.shape[1] if stored.size else 0
    matrix = np.zeros((len(symbols), dimension), np.float16)
    reused = [(i, known[k]) for i, k in enumerate(keys) if k in known]
    if reused:
        rows, sources = zip(*reused)
        matrix[list(rows)] = stored[list(sources)]
    if fresh:
        matrix[missing] = np.concatenate(fresh)
        _save(path, keys, matrix)
    progress.report(1.0, f"{len(symbols)} symbol vectors ({len(missing)} embedded now)")
    return matrix.astype(np.float32)


def _save(path: Path, keys: Sequence[bytes], matrix: np.ndarray) -> None:
    """Keep exactly the current symbols' vectors (a removed symbol's vector goes with it)."""
    with atomic_path(path, suffix=".npz") as temporary:  # .npz: np.savez would add it otherwise
        np.savez(temporary, keys=np.array(keys, dtype="S12"), vectors=matrix)
