"""The embedded defaults: SmolLM2 from its GGUF (converted once, trainable) and MiniLM embeddings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from forklift_core import models

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def smollm2(models_dir: Path, smollm2_dir: Path):
    return models.load_lm(models.DEFAULT_LM_ID, models_dir)


def test_default_resolves_to_the_embedded_conversion(models_dir: Path, smollm2) -> None:
    resolved = models.resolve_lm("smollm2", models_dir)
    assert resolved.origin == "embedded"
    folder = Path(resolved.location)
    assert (folder / "model.safetensors").is_file() and (folder / "forklift-conversion.json").is_file()
    assert folder.parent == models_dir
    assert "quantization_config" not in (folder / "config.json").read_text()


def test_workspaces_share_the_model_cache_forklift_models_names(tmp_path: Path, models_dir: Path, smollm2_dir: Path,
                                                                  monkeypatch) -> None:
    from forklift_core.workspace import Workspace

    first, second = Workspace(tmp_path / "a"), Workspace(tmp_path / "b")
    assert first.models_dir == second.models_dir == models_dir  # the suite shares one cache through it
    before = (smollm2_dir / "model.safetensors").stat().st_mtime_ns
    assert models.resolve_lm(models.DEFAULT_LM_ID, second.models_dir).location == str(smollm2_dir)
    assert (smollm2_dir / "model.safetensors").stat().st_mtime_ns == before  # not converted again
    monkeypatch.delenv("FORKLIFT_MODELS")
    assert first.models_dir == tmp_path / "a" / ".models" != second.models_dir  # without it, each its own


def test_a_conversion_parses_the_gguf_once_and_leaves_the_reader_as_it_was(tmp_path: Path) -> None:
    import gguf

    source = tmp_path / "small.gguf"
    writer = gguf.GGUFWriter(str(source), "llama")
    writer.add_block_count(2)
    writer.add_tensor("token_embd.weight", np.zeros((4, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    original = gguf.GGUFReader
    with models.gguf_parsed_once():
        first, second = gguf.GGUFReader(str(source)), gguf.GGUFReader(str(source))
        assert first is second  # transformers' three reads (tokenizer, config, weights) share one parse
        assert gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, 2) is gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, 2)
    assert gguf.GGUFReader is original  # outside the block, the library is untouched
    assert gguf.GGUFReader(str(source)) is not first and len(first.tensors) == 1


def test_a_path_that_is_not_a_folder_is_refused_not_sent_to_the_hub(tmp_path: Path) -> None:
    from forklift_core.errors import NotFoundError

    with pytest.raises(NotFoundError, match="no model folder at"):
        models.resolve_lm(str(tmp_path / "missing"), tmp_path)
    with pytest.raises(NotFoundError, match="no model folder at"):
        models.resolve_embedder(str(tmp_path / "missing"))
    assert models.resolve_lm("someone/some-model", tmp_path).origin == "hub"  # a Hub id is still one


def test_conversion_is_done_once(models_dir: Path, smollm2) -> None:
    folder = Path(models.resolve_lm(models.DEFAULT_LM_ID, models_dir).location)
    before = (folder / "model.safetensors").stat().st_mtime_ns
    models.resolve_lm(models.DEFAULT_LM_ID, models_dir)
    assert (folder / "model.safetensors").stat().st_mtime_ns == before


def test_smollm2_generates(smollm2) -> None:
    model, tokenizer = smollm2
    assert model.config.model_type == "llama" and model.num_parameters() > 100_000_000
    answers = models.chat_generate(model, tokenizer, ["What is a Python list?", "Name a sorting algorithm."],
                                   max_new_tokens=24)
    assert len(answers) == 2 and all(len(a.split()) >= 3 for a in answers)
    single = models.chat_generate(model, tokenizer, ["Name a sorting algorithm."], max_new_tokens=24)
    assert single[0] == answers[1]  # batched (left-padded) and single greedy answers agree


def test_converted_copy_is_trainable_with_lora(smollm2) -> None:
    import torch
    from peft import LoraConfig, get_peft_model

    model, tokenizer = smollm2
    peft_model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules="all-linear",
                                                  task_type="CAUSAL_LM"))
    batch = tokenizer(["def add(a, b):\n    return a + b\n"], return_tensors="pt")
    out = peft_model(**batch, labels=batch["input_ids"])
    assert torch.isfinite(out.loss)
    out.loss.backward()
    grads = [p.grad for n, p in peft_model.named_parameters() if "lora_" in n and p.requires_grad]
    assert grads and all(g is not None for g in grads)
    assert any(float(g.abs().sum()) > 0 for g in grads)
    frozen = [p for n, p in peft_model.named_parameters() if "lora_" not in n]
    assert all(p.grad is None for p in frozen)
    peft_model.unload()


def test_embedder_returns_normalised_384_dim_vectors() -> None:
    embedder = models.Embedder()
    assert embedder.resolved.origin == "embedded"
    vectors = embedder.embed(["open a file", "read a file from disk", "the cat sat on the mat"])
    assert vectors.shape == (3, 384) and embedder.dimension == 384
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]  # related sentences are closer


def test_unknown_hub_id_fails_clearly(models_dir: Path, monkeypatch) -> None:
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    # huggingface_hub reads the variable once, at import: an earlier test imported it, so set what it read too
    # (otherwise the lookup retries the unreachable Hub for most of a minute before failing the same way).
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(models.NotFoundError, match="cannot load model 'no-such-org/no-such-model' from hub"):
        models.load_lm("no-such-org/no-such-model", models_dir)
