"""A scripted OpenAI-compatible chat server on localhost: counts requests, can rate-limit, answers by rule."""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


class ScriptedChatServer:
    """POST /v1/chat/completions answered by `respond(messages)`; the first `rate_limit_first` calls get a 429."""

    def __init__(self, respond: Callable[[list[dict]], str], rate_limit_first: int = 0) -> None:
        self.requests: list[dict] = []
        self.rate_limited = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if not self.path.endswith("/chat/completions"):
                    self.send_error(404)
                    return
                with lock:
                    if server.rate_limited < rate_limit_first:
                        server.rate_limited += 1
                        self.send_response(429)
                        self.send_header("Retry-After", "0")
                        self.send_header("Content-Type", "application/json")
                        payload = b'{"error": {"message": "rate limited"}}'
                        self.send_header("Content-Length", str(len(payload)))
                        self.end_headers()
                        self.wfile.write(payload)
                        return
                    server.requests.append(body)
                content = respond(body["messages"])
                payload = json.dumps({
                    "id": f"chatcmpl-{len(server.requests)}", "object": "chat.completion", "created": int(time.time()),
                    "model": body.get("model") or "scripted",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                 "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                }).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "ScriptedChatServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def codebase_teacher(messages: list[dict]) -> str:
    """Paraphrases that keep the backticked name; explanations that invent a file for one symbol."""
    user = messages[-1]["content"]
    label = re.search(r"`([^`]+)`", user).group(1)
    if user.startswith("Write "):
        return f"1. Can you tell me about `{label}`?\n2. Tell me, regarding `{label}`, the details?\n3. unrelated line"
    if label == "Circle.area":
        return "`Circle.area` multiplies pi by the radius squared; see also `geometry/helpers_v2.py`."
    return f"`{label}` does what its code says."
