"""Symbol vectors kept beside the index: embedded once, reused, and recomputed only for symbols that changed."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from forklift_core.evaluate.retrieval import Retriever
from forklift_core.evaluate.vectors import symbol_vectors, vectors_file
from forklift_core.ingest.index import ingest
from forklift_core.ingest.tables import IndexReader
from forklift_core.models import Embedder
from tests.conftest import POLYGLOT


@dataclasses.dataclass
class CountingEmbedder:
    """The real embedder, counting the texts it was asked to embed."""

    inner: Embedder
    texts: int = 0

    @property
    def resolved(self):  # noqa: ANN201
        return self.inner.resolved

    def embed(self, texts):  # noqa: ANN001, ANN201
        self.texts += len(texts)
        return self.inner.embed(texts)


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


def test_vectors_are_embedded_once_and_only_changed_symbols_again(workspace, embedder) -> None:
    ingest(str(POLYGLOT), "p", workspace)
    paths = workspace.project("p")
    symbols = IndexReader(paths).symbols()
    counting = CountingEmbedder(embedder)
    first = symbol_vectors(paths, symbols, counting)
    assert counting.texts == len(symbols) and vectors_file(paths, embedder.resolved.model_id).is_file()
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-2)

    again = symbol_vectors(paths, symbols, counting)  # another process, another day: nothing embedded
    assert counting.texts == len(symbols) and np.array_equal(first, again)

    changed = [dict(s) for s in symbols]
    changed[0]["signature"] = "(self, extra)"
    third = symbol_vectors(paths, changed, counting)
    assert counting.texts == len(symbols) + 1
    assert np.array_equal(third[1:], first[1:]) and not np.allclose(third[0], first[0])


def test_a_retriever_on_a_project_uses_the_stored_vectors(workspace, embedder) -> None:
    ingest(str(POLYGLOT), "p", workspace)
    paths = workspace.project("p")
    symbols = IndexReader(paths).symbols()
    counting = CountingEmbedder(embedder)
    symbol_vectors(paths, symbols, counting)
    before = counting.texts
    found = Retriever(symbols, counting, paths).retrieve(["How big is a stack?"], 3)
    assert counting.texts == before + 1  # only the question was embedded
    assert len(found[0]) == 3 and any("stack" in e.path for e in found[0])
