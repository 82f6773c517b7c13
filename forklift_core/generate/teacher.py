"""The optional LLM teacher: any OpenAI-compatible endpoint or HF Inference Providers, via InferenceClient.

Bounded concurrency, retries with backoff on rate limits and server errors, and a cache keyed by the request
hash so a rerun costs nothing. Its output is never trusted: callers check it against the index.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from forklift_core.config import GenerateConfig
from forklift_core.errors import ToolError

_RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s*")


class TeacherCache:
    """Responses by request hash, in SQLite beside the project (safe across threads)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, text TEXT NOT NULL)")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def get(self, key: str) -> str | None:
        with self._lock, self._connect() as db:
            row = db.execute("SELECT text FROM responses WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def put(self, key: str, text: str) -> None:
        with self._lock, self._connect() as db:
            db.execute("INSERT OR REPLACE INTO responses VALUES (?, ?)", (key, text))


def _status_and_wait(exc: Exception) -> tuple[int | None, float | None]:
    """The HTTP status of a failed request and its Retry-After seconds, when it carries them."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    retry_after = None
    headers = getattr(response, "headers", None) or {}
    try:
        retry_after = float(headers.get("retry-after")) if headers.get("retry-after") is not None else None
    except (TypeError, ValueError):
        retry_after = None
    return status, retry_after


@dataclass
class Teacher:
    """Chat completions with caching, retries and a concurrency bound."""

    client: Any
    model: str | None
    cache: TeacherCache
    concurrency: int = 4
    max_retries: int = 4
    backoff_s: float = 0.5
    stats: dict[str, int] = field(default_factory=lambda: {"requests": 0, "cache_hits": 0, "retries": 0})
    _stats_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_config(cls, config: GenerateConfig, cache_path: Path, api_key: str | None = None) -> "Teacher":
        """A client for the configured URL (OpenAI-compatible) or Inference Provider; the key is passed, never stored."""
        from huggingface_hub import InferenceClient

        if config.teacher_url:
            client = InferenceClient(base_url=config.teacher_url, api_key=api_key or "not-needed",
                                     timeout=config.teacher_timeout_s)
        else:
            client = InferenceClient(provider=config.teacher_provider or "auto", api_key=api_key,
                                     timeout=config.teacher_timeout_s)
        return cls(client, config.teacher_model or None, TeacherCache(cache_path), config.teacher_concurrency,
                   config.teacher_max_retries)

    def _count(self, key: str) -> None:
        with self._stats_lock:
            self.stats[key] += 1

    def complete(self, messages: list[dict[str, str]], max_tokens: int = 256) -> str:
        """One chat completion at temperature 0; cached by the hash of the whole request."""
        request = {"model": self.model, "messages": messages, "max_tokens": max_tokens, "temperature": 0}
        key = hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()
        cached = self.cache.get(key)
        if cached is not None:
            self._count("cache_hits")
            return cached
        for attempt in range(self.max_retries + 1):
            try:
                self._count("requests")
                out = self.client.chat_completion(messages, model=self.model, max_tokens=max_tokens, temperature=0)
                text = (out.choices[0].message.content or "").strip()
                self.cache.put(key, text)
                return text
            except Exception as exc:  # the client raises several types; retry only what is transient
                status, retry_after = _status_and_wait(exc)
                transient = status in _RETRY_STATUS or (status is None and "timeout" in type(exc).__name__.lower()) \
                    or (status is None and "connect" in str(exc).lower())
                if not transient or attempt == self.max_retries:
                    raise ToolError(f"teacher request failed: {str(exc).splitlines()[0][:200]}") from exc
                self._count("retries")
                time.sleep(retry_after if retry_after is not None else self.backoff_s * 2 ** attempt)
        raise ToolError("teacher request failed")  # unreachable: the loop returns or raises

    def _map(self, work: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(work, items))

    def paraphrase_all(self, items: Sequence[tuple[str, str, str]], count: int) -> dict[str, list[str]]:
        """Up to `count` new phrasings per (fact id, question, label); each must still name the label."""
        def one(item: tuple[str, str, str]) -> list[str]:
            fact_id, question, label = item
            text = self.complete([
                {"role": "system", "content": "You rewrite questions about a codebase. Keep every name in backticks "
                                              "exactly as written. Answer with one question per line, nothing else."},
                {"role": "user", "content": f"Write {count} different phrasings of: {question}"}])
            lines = [_BULLET.sub("", line).strip() for line in text.splitlines()]
            kept = [l for l in lines if l.endswith("?") and f"`{label}`" in l and l != question]
            return list(dict.fromkeys(kept))[:count]

        return {item[0]: found for item, found in zip(items, self._map(one, items)) if found}

    def explain_all(self, items: Sequence[tuple[str, str, str]]) -> dict[str, str]:
        """An explanation of what each (fact id, label, code) does, written from its code."""
        def one(item: tuple[str, str, str]) -> str:
            _, label, code = item
            return self.complete([
                {"role": "system", "content": "You explain code precisely. Name only files and symbols that appear in "
                                              "the code you are shown, in backticks. Two to four sentences."},
                {"role": "user", "content": f"What does `{label}` do?\n\n```\n{code[:3000]}\n```"}], max_tokens=200)

        return {item[0]: text for item, text in zip(items, self._map(one, items))}
