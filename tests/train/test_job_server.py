"""Warm job starts: jobs forked from one server that imported the stack once, each in its own session."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from forklift_core.train.job_server import WARM_SWITCH, start_job, stop_servers, warm_up
from forklift_core.train.launch import _alive

# A stand-in job with the real one's two entry points: preload() records each import, main() what it was given.
STAND_IN = '''
import json, os, sys

def preload():
    os.environ["TORCH_SET_BY_IMPORT"] = "yes"  # as torch sets TORCHINDUCTOR_CACHE_DIR when imported
    with open(os.environ["PRELOADS"], "a") as record:
        record.write(f"{os.getpid()}\\n")

def main():
    print("the job starts", flush=True)
    if sys.argv[2] == "fail":
        raise RuntimeError("the job broke")
    with open(sys.argv[1], "w") as out:
        json.dump({"pid": os.getpid(), "parent": os.getppid(), "session": os.getsid(0), "argv": sys.argv[1:],
                   "job_only": os.environ.get("JOB_ONLY"), "cwd": os.getcwd(),
                   "stdin": os.readlink("/proc/self/fd/0")}, out)
    return 0

if __name__ == "__main__":
    sys.exit(main())
'''


@pytest.fixture
def stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    script = tmp_path / "stand_in.py"
    script.write_text(STAND_IN)
    monkeypatch.chdir(tmp_path)
    yield script, {**os.environ, "PRELOADS": str(tmp_path / "preloads"), "HF_STARTED_WITH": "1"}
    stop_servers()


def _finished(pid: int) -> None:
    while _alive(pid):
        time.sleep(0.05)


def _run(script: Path, name: str, env: dict[str, str], outcome: str = "ok") -> tuple[dict, str, bool]:
    folder = script.parent
    job = start_job(script, [str(folder / f"{name}.json"), outcome], folder / f"{name}.log", env)
    _finished(job.pid)
    report = folder / f"{name}.json"
    return (json.loads(report.read_text()) if report.is_file() else {}), (folder / f"{name}.log").read_text(), job.warm


def _preloads(script: Path) -> list[int]:
    path = script.parent / "preloads"
    return [int(line) for line in path.read_text().split()] if path.is_file() else []


def test_jobs_fork_from_one_server_that_imported_once(stand_in) -> None:
    script, env = stand_in
    first, first_log, first_warm = _run(script, "first", {**env, "JOB_ONLY": "one"})
    second, _, second_warm = _run(script, "second", {**env, "JOB_ONLY": "two"})
    assert first_warm and second_warm
    assert _preloads(script) == [first["parent"]] == [second["parent"]]  # one import served both jobs
    assert first["session"] == first["pid"] != second["pid"]  # each its own session: it outlives app and server
    assert (first["job_only"], second["job_only"]) == ("one", "two")  # each gets the caller's environment
    assert first["argv"] == [str(script.parent / "first.json"), "ok"]
    assert first["cwd"] == str(script.parent) and first["stdin"] == "/dev/null"
    assert "the job starts" in first_log


def test_a_changed_or_removed_import_time_variable_gets_a_new_server(stand_in) -> None:
    script, env = stand_in
    first, _, _ = _run(script, "first", env)
    # A variable the stack sets on itself at import (torch: TORCHINDUCTOR_CACHE_DIR) keeps the server, set or not.
    same, _, _ = _run(script, "same", {**env, "TORCH_SET_BY_IMPORT": "yes"})
    assert same["parent"] == first["parent"] and len(_preloads(script)) == 1
    elsewhere = {**env, "HF_HOME": str(script.parent / "elsewhere")}
    changed, _, _ = _run(script, "changed", elsewhere)
    assert changed["parent"] != first["parent"] and len(_preloads(script)) == 2
    removed, _, _ = _run(script, "removed", {k: v for k, v in elsewhere.items() if k != "HF_STARTED_WITH"})
    assert removed["parent"] not in (first["parent"], changed["parent"]) and len(_preloads(script)) == 3


def test_a_dead_server_is_replaced(stand_in) -> None:
    script, env = stand_in
    first, _, _ = _run(script, "first", env)
    os.kill(first["parent"], signal.SIGKILL)
    _finished(first["parent"])
    second, _, warm = _run(script, "second", env)
    assert warm and second["parent"] != first["parent"] and len(_preloads(script)) == 2


def test_a_failing_job_leaves_its_traceback_and_the_switch_starts_jobs_cold(stand_in) -> None:
    script, env = stand_in
    report, log, warm = _run(script, "broken", env, outcome="fail")
    assert warm and report == {}
    assert "RuntimeError: the job broke" in log and "the job starts" in log
    cold, _, warm = _run(script, "cold", {**env, WARM_SWITCH: "0"})
    assert not warm and cold["parent"] == os.getpid() and cold["session"] == cold["pid"]
    assert len(_preloads(script)) == 1  # the cold job imported for itself; the server was not asked


def test_a_warm_up_imports_ahead_and_the_next_job_forks_from_it(stand_in) -> None:
    script, env = stand_in
    warm_up(script, env)  # returns at once; the server imports in the background
    while not _preloads(script):
        time.sleep(0.05)
    job, _, warm = _run(script, "job", env)
    assert warm and _preloads(script) == [job["parent"]]
    warm_up(script, env)  # a server that serves already is kept
    again, _, _ = _run(script, "again", env)
    assert again["parent"] == job["parent"] and len(_preloads(script)) == 1
