"""Local training jobs forked from one process that has already imported the training stack (a warm start).

Importing torch, transformers, TRL and PEFT costs a job about 10 s of CPU before it does any work. The first local
run of a process starts this server, which imports them once (the run waits for that, as it would have waited for
its own imports); that run and every later one is forked from it, warm. A forked job is like a spawned one: its own
session (it outlives the app and the server), its own log, the caller's environment and working directory.

The server imports the stack under the environment of the first run; a run whose import-time variables differ gets
a new server. FORKLIFT_WARM_JOBS=0 spawns every job cold. Run as `python -m forklift_core.train.job_server SCRIPT`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

# Variables the stack reads when it is imported (Hub constants, thread pools, the allocator): a server imported
# under other values would not give the job what a fresh process gets.
IMPORT_TIME_PREFIXES = ("HF_", "HUGGINGFACE_", "TRANSFORMERS_", "TRL_", "PEFT_", "TORCH", "PYTORCH_", "TOKENIZERS_",
                        "OMP_", "MKL_", "CUDA_", "MALLOC_", "LD_", "PYTHON")
WARM_SWITCH = "FORKLIFT_WARM_JOBS"


@dataclass(frozen=True)
class StartedJob:
    """A job just started: its process id, whether it was forked warm, and the Popen to reap when spawned cold."""

    pid: int
    warm: bool
    process: subprocess.Popen[bytes] | None = None


def import_time_environment(env: dict[str, str]) -> dict[str, str]:
    """The part of an environment that the training stack reads at import."""
    return {key: value for key, value in env.items() if key.startswith(IMPORT_TIME_PREFIXES)}


class JobServer:
    """The caller's handle on one server process; `fork` starts a job from it and returns the job's pid."""

    def __init__(self, script: Path, env: dict[str, str]) -> None:
        self.started_under = import_time_environment(env)
        self.process = subprocess.Popen([sys.executable, "-m", "forklift_core.train.job_server", str(script)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        # Ready once the stack is imported, with the variables as its imports left them (torch sets some itself).
        self.imported_under: dict[str, str] = self._read()["environment"]

    def serves(self, env: dict[str, str]) -> bool:
        """Alive, and imported under what `env` says: a variable the stack sets on itself need not be in `env`."""
        wanted = import_time_environment(env)
        return (self.process.poll() is None
                and all(self.imported_under.get(key) == value for key, value in wanted.items())
                and all(key in wanted for key in self.started_under))

    def fork(self, script: Path, args: list[str], log: Path, env: dict[str, str]) -> int:
        """Start `python script *args` in its own session, printing to `log`."""
        request = {"script": str(script), "args": args, "log": str(log), "env": env, "cwd": os.getcwd()}
        self._stdin().write(json.dumps(request).encode() + b"\n")
        self._stdin().flush()
        return int(self._read()["pid"])

    def stop(self) -> None:
        """End the server (its jobs run on); closing its input is enough."""
        try:
            self._stdin().close()
            self.process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()

    def _stdin(self) -> IO[bytes]:
        assert self.process.stdin is not None
        return self.process.stdin

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise OSError(f"the job server stopped (exit code {self.process.poll()})")
        reply = json.loads(line)
        if "error" in reply:
            raise OSError(f"the job server could not start the job: {reply['error']}")
        return reply


_lock = threading.Lock()  # one request at a time: the replies come back in order on one pipe
_servers: dict[Path, JobServer] = {}  # by job script


def _warm_starts(env: dict[str, str]) -> bool:
    return env.get(WARM_SWITCH, "1") != "0"


def _server_for(script: Path, env: dict[str, str]) -> JobServer:
    """The running server for this script and environment, started (and waited for) when there is none yet."""
    server = _servers.get(script)
    if server is None or not server.serves(env):
        _drop_server(script)
        server = _servers[script] = JobServer(script, env)
    return server


def _drop_server(script: Path) -> None:
    server = _servers.pop(script, None)
    if server is not None:
        server.stop()


def warm_up(script: Path, env: dict[str, str]) -> None:
    """Start the job server in the background, so the next run starts warm without waiting for the imports."""
    if not _warm_starts(env):
        return

    def start() -> None:
        with _lock:
            try:
                _server_for(script, env)
            except (OSError, ValueError):
                _drop_server(script)  # the next run says why, when it starts cold

    threading.Thread(target=start, name="job-server-warm-up", daemon=True).start()


def start_job(script: Path, args: list[str], log: Path, env: dict[str, str]) -> StartedJob:
    """Start `python script *args` in its own session writing to `log`: forked warm, or spawned if that fails."""
    if _warm_starts(env):
        with _lock:
            try:
                return StartedJob(_server_for(script, env).fork(script, args, log, env), warm=True)
            except (OSError, ValueError) as exc:
                print(f"forklift: starting the job cold ({exc})", file=sys.stderr)
                _drop_server(script)
    with open(log, "ab") as output:
        process = subprocess.Popen([sys.executable, str(script), *args], stdin=subprocess.DEVNULL, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True, env=env)
    return StartedJob(process.pid, warm=False, process=process)


def stop_servers() -> None:
    """End this process's job servers (their jobs run on); the next local run starts a new one."""
    with _lock:
        while _servers:
            _servers.popitem()[1].stop()


def _run_forked(job: Any, request: dict[str, Any]) -> None:
    """In the forked child: become the job process a spawn would have made, run the job's main, and exit."""
    code = 1
    try:
        os.setsid()  # its own session: a signal to the app's group does not reach it
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the job's own subprocesses must be waitable
        signal.signal(signal.SIGINT, signal.default_int_handler)
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        os.close(devnull)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        sys.argv = [request["script"], *request["args"]]
        code = job.main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - the log is the job's only voice; say why it ended
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def serve(script: Path) -> None:
    """Import the job and its stack, then fork one job per request line on stdin until stdin closes."""
    from forklift_core.train.recipe import load_job

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps finished jobs: none lingers as a zombie
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the app; the server then ends when its input closes
    job = load_job(script)
    job.preload()
    replies = sys.stdout
    print(json.dumps({"environment": import_time_environment(dict(os.environ))}), file=replies, flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        try:
            pid = os.fork()
        except OSError as exc:
            print(json.dumps({"error": str(exc)}), file=replies, flush=True)
            continue
        if pid == 0:
            _run_forked(job, request)
        print(json.dumps({"pid": pid}), file=replies, flush=True)


if __name__ == "__main__":
    serve(Path(sys.argv[1]))
