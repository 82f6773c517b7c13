"""A ForkLift training Space: train from the run bundle, push the results, then pause the Space.

Self-contained like job.py: the Space repo carries it with remote_entry.py. The Space's port shows the run's
latest log lines (a Docker Space must answer on its port). Whatever happens — success, failure, the timeout —
the Space pauses itself at the end, so its GPU never bills after the run; if pausing is refused it falls back
to the free CPU hardware.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

LOG: collections.deque[str] = collections.deque(maxlen=500)


class _Status(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        body = ("ForkLift training run\n\n" + "\n".join(LOG)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def release_hardware() -> None:
    """Pause this Space (billing stops); if that is refused, drop to the free CPU hardware."""
    from huggingface_hub import HfApi

    api, space = HfApi(), os.environ["SPACE_ID"]
    try:
        api.pause_space(space)
    except Exception as exc:  # the token may pause no Space: downgrading still stops the GPU bill
        print(f"ForkLift: could not pause {space} ({exc}); moving it to cpu-basic", flush=True)
        api.request_space_hardware(space, "cpu-basic")


def main() -> int:
    server = ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "7860"))), _Status)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    train = subprocess.Popen([sys.executable, str(Path(__file__).with_name("remote_entry.py"))],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # The timeout: remote_entry stops the job (it saves), pushes what there is, and exits.
    limit = threading.Timer(float(os.environ.get("FORKLIFT_TIMEOUT_S", "7200")),
                            lambda: train.send_signal(signal.SIGTERM))
    limit.start()
    assert train.stdout is not None
    for line in train.stdout:
        print(line, end="", flush=True)
        LOG.append(line.rstrip())
    code = train.wait()
    limit.cancel()
    print(f"ForkLift: training exited {code}; releasing the hardware", flush=True)
    release_hardware()
    server.shutdown()
    return code


if __name__ == "__main__":
    sys.exit(main())
