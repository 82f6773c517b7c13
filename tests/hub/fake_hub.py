"""A local stand-in for the Hugging Face Hub: the endpoints huggingface_hub calls to push and pull repos.

No Hub is reachable here, so ForkLift's Hub code is tested against this server through the real
huggingface_hub client (the requests are exactly the ones it sends; the server records them, minus the
Authorization header, for the tests to check). Responses follow the Hub's documented shapes. Failures are
scripted per request (`fail`): a status with headers (401, 403, 404, 429 + Retry-After, 5xx) or a dropped
connection. Run it by hand to try the app against it: `python tests/hub/fake_hub.py --port 7870 --token hf_...`.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

PREFIXES = {"model": "", "dataset": "datasets/", "space": "spaces/"}
_API_REPO = re.compile(r"^/api/(models|datasets|spaces)/([^/]+/[^/]+?)(?:/(revision|tree|preupload|commit|refs|hardware|variables|secrets|runtime|pause|logs)"
                       r"(?:/([^/]+)(?:/(.*))?)?)?$")
_RESOLVE = re.compile(r"^/(?:(datasets|spaces)/)?([^/]+/[^/]+)/resolve/([^/]+)/(.+)$")
_LFS_BATCH = re.compile(r"^/(?:(datasets|spaces)/)?([^/]+/[^/]+)\.git/info/lfs/objects/batch$")
_JOBS = re.compile(r"^/api/jobs/([^/]+)(?:/([^/]+)(?:/(logs|cancel))?)?$")
LFS_THRESHOLD = 10 * 1024 * 1024  # the Hub stores big files (and binary weights) in LFS


def git_blob_id(data: bytes) -> str:
    """Git's object id of a blob (the Hub's oid for a regular file)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Repo:
    """One repository: its commits (each a full snapshot of path -> bytes), newest last."""

    repo_type: str
    repo_id: str
    private: bool
    commits: list[dict[str, Any]] = field(default_factory=list)
    lfs_paths: set[str] = field(default_factory=set)
    hardware: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)  # a Space's secrets (kept to run it; never returned)
    sdk: str = ""
    stage: str = "BUILDING"  # a Space's runtime stage
    logs: list[str] = field(default_factory=list)

    def runtime(self) -> dict[str, Any]:
        """The Space runtime payload (GET /api/spaces/{id}/runtime)."""
        current = None if self.stage in ("PAUSED", "STOPPED", "BUILDING") else (self.hardware or "cpu-basic")
        return {"stage": self.stage, "hardware": {"current": current, "requested": self.hardware or "cpu-basic"},
                "gcTimeout": None, "storage": None}

    def head(self) -> dict[str, Any]:
        return self.commits[-1]

    def at(self, revision: str) -> dict[str, Any] | None:
        if revision in ("main", "HEAD"):
            return self.head()
        return next((c for c in self.commits if c["oid"] == revision or c["oid"].startswith(revision)), None)


@dataclass
class Failure:
    """A scripted failure: the next `times` requests matching method and path fail this way."""

    method: str
    path: re.Pattern[str]
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering
    times: int = 1
    stall: float = 0.0  # hold the request this many seconds first (a slow upload the client is killed during)


class FakeHub:
    """The server's state: users and their tokens, repositories, LFS objects, the request log, failures."""

    def __init__(self) -> None:
        self.tokens: dict[str, dict[str, str]] = {}
        self.repos: dict[tuple[str, str], Repo] = {}
        self.lfs: dict[str, bytes] = {}
        self.requests: list[dict[str, Any]] = []
        self.failures: list[Failure] = []
        self.jobs: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    # set-up used by tests
    def add_token(self, token: str, user: str, role: str = "write") -> None:
        self.tokens[token] = {"name": user, "role": role}

    def fail(self, method: str, path: str, status: int = 500, headers: dict[str, str] | None = None,
             drop: bool = False, times: int = 1, stall: float = 0.0) -> None:
        self.failures.append(Failure(method, re.compile(path), status, headers or {}, drop, times, stall))

    def start(self, port: int = 0) -> str:
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self.url

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def files(self, repo_type: str, repo_id: str, revision: str = "main") -> dict[str, bytes]:
        """The files of a repo at a revision (LFS pointers resolved)."""
        commit = self.repos[(repo_type, repo_id)].at(revision)
        assert commit is not None
        return dict(commit["files"])

    def run_job_locally(self, job_id: str, python: str, extra_env: dict[str, str] | None = None) -> int:
        """Do what HF Jobs does with a job: run its command (here `uv run --with ...` is this venv's python) with
        its environment and secrets, keep the output as the job's logs, and set its stage from the exit code."""
        import os
        import subprocess
        import tempfile

        job = self.jobs[job_id]
        command = job["spec"]["command"]
        program = command.index("python") if "python" in command else len(command) - 1
        env = {**os.environ, **job["spec"].get("environment", {}), **job["spec"].get("secrets", {}),
               "HF_ENDPOINT": self.url, **(extra_env or {})}
        job["status"] = {"stage": "RUNNING", "message": None}
        with tempfile.TemporaryDirectory(prefix="fake-job-") as workdir:  # a job runs in a folder of its own
            done = subprocess.run([python, *command[program + 1:]], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, cwd=workdir)  # one stream, in order
        job["logs"] = done.stdout.splitlines()
        job["status"] = {"stage": "COMPLETED" if done.returncode == 0 else "ERROR",
                         "message": None if done.returncode == 0 else f"exit code {done.returncode}"}
        return done.returncode

    def run_space_locally(self, space_id: str, python: str, extra_env: dict[str, str] | None = None) -> int:
        """Do what the Hub does with a Docker Space: run its Dockerfile's CMD (here with this venv's python) in a
        folder holding the Space's files, with its variables, secrets and SPACE_ID; the output is its run log.
        A Space whose program exits without having been paused ends in RUNTIME_ERROR, as on the Hub."""
        import os
        import subprocess
        import tempfile
        from pathlib import Path

        repo = self.repos[("space", space_id)]
        files = repo.head()["files"]
        cmd = json.loads(re.search(rb"^CMD (\[.*\])$", files["Dockerfile"], re.M).group(1))
        env = {**os.environ, **repo.variables, **repo.secrets, "SPACE_ID": space_id, "HF_ENDPOINT": self.url,
               "PORT": "0", **(extra_env or {})}
        repo.stage = "RUNNING"
        with tempfile.TemporaryDirectory(prefix="fake-space-") as workdir:
            for path, data in files.items():
                (Path(workdir) / path).parent.mkdir(parents=True, exist_ok=True)
                (Path(workdir) / path).write_bytes(data)
            done = subprocess.run([python if part == "python" else part for part in cmd], env=env, cwd=workdir,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        repo.logs = done.stdout.splitlines()
        if repo.stage == "RUNNING":
            repo.stage = "RUNTIME_ERROR"
        return done.returncode

    def calls(self, method: str | None = None, contains: str = "") -> list[dict[str, Any]]:
        return [r for r in self.requests if (method is None or r["method"] == method) and contains in r["path"]]


def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # quiet: the tests read hub.requests
            pass

        def _dispatch(self, method: str) -> None:
            parsed = urlparse(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items() if k.lower() != "authorization"}
            record = {"method": method, "path": parsed.path, "query": parse_qs(parsed.query), "headers": headers,
                      "body": body, "authorized": self.headers.get("Authorization", "").startswith("Bearer ")}
            with hub.lock:
                hub.requests.append(record)
                failure = next((f for f in hub.failures if f.method == method and f.path.search(parsed.path)
                                and f.times > 0), None)
                if failure:
                    failure.times -= 1
            if failure and failure.stall:
                time.sleep(failure.stall)
            if failure and failure.drop:
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if failure:
                return self._json(failure.status, {"error": f"scripted failure {failure.status}"}, failure.headers)
            try:
                self._route(method, unquote(parsed.path), parse_qs(parsed.query), body)
            except Exception as exc:  # a bug in the fake must show in the test, not hang it
                self._json(500, {"error": f"fake hub: {exc!r}"})

        do_GET = lambda self: self._dispatch("GET")  # noqa: E731
        do_HEAD = lambda self: self._dispatch("HEAD")  # noqa: E731
        do_POST = lambda self: self._dispatch("POST")  # noqa: E731
        do_PUT = lambda self: self._dispatch("PUT")  # noqa: E731

        # responses
        def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
            payload = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def _user(self) -> dict[str, str] | None:
            auth = self.headers.get("Authorization", "")
            return hub.tokens.get(auth.removeprefix("Bearer ")) if auth.startswith("Bearer ") else None

        def _repo(self, repo_type: str, repo_id: str, write: bool = False) -> Repo | None:
            """The repo if this caller may see (or write) it; answers 401/403/404 itself otherwise."""
            user = self._user()
            if self.headers.get("Authorization") and user is None:
                self._json(401, {"error": "Invalid credentials in Authorization header"})
                return None
            repo = hub.repos.get((repo_type, repo_id))
            if repo is None or (repo.private and (user is None or repo_id.split("/")[0] != user["name"])):
                self._json(404, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"})
                return None
            if write and (user is None or user["role"] != "write" or repo_id.split("/")[0] != user["name"]):
                self._json(403, {"error": "You don't have the rights to write to this repository"})
                return None
            return repo

        def _route(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> None:
            if path == "/api/whoami-v2":
                user = self._user()
                if user is None:
                    return self._json(401, {"error": "Invalid credentials in Authorization header"})
                return self._json(200, {"type": "user", "name": user["name"], "orgs": [],
                                        "auth": {"type": "access_token",
                                                 "accessToken": {"displayName": "test", "role": user["role"]}}})
            if path == "/api/validate-yaml" and method == "POST":
                return self._json(200, {"errors": [], "warnings": []})
            if path == "/api/repos/create" and method == "POST":
                return self._create(json.loads(body))
            if path.startswith("/lfs-upload/") and method == "PUT":
                oid = path.rsplit("/", 1)[1]
                if hashlib.sha256(body).hexdigest() != oid:
                    return self._json(400, {"error": "content does not match its oid"})
                hub.lfs[oid] = body
                return self._json(200, {})
            if match := _JOBS.match(path):
                return self._jobs(method, match.group(1), match.group(2), match.group(3), body)
            if match := _LFS_BATCH.match(path):
                return self._lfs_batch(_type(match.group(1)), match.group(2), json.loads(body))
            if match := _RESOLVE.match(path):
                return self._resolve(_type(match.group(1)), match.group(2), match.group(3), match.group(4))
            if match := _API_REPO.match(path):
                repo_type = {"models": "model", "datasets": "dataset", "spaces": "space"}[match.group(1)]
                return self._api_repo(method, repo_type, match.group(2), match.group(3), match.group(4) or "main",
                                      match.group(5) or "", body)
            return self._json(404, {"error": f"no route {method} {path}"})

        def _jobs(self, method: str, namespace: str, job_id: str | None, action: str | None, body: bytes) -> None:
            user = self._user()
            if user is None:
                return self._json(401, {"error": "Invalid credentials in Authorization header"})
            if namespace != user["name"] or (method == "POST" and user["role"] != "write"):
                return self._json(403, {"error": "You cannot run jobs in this namespace"})
            if job_id is None and method == "POST":
                spec = json.loads(body)
                job_id = hashlib.sha1(f"job:{time.time_ns()}".encode()).hexdigest()[:24]
                hub.jobs[job_id] = {"spec": spec, "namespace": namespace, "logs": [],
                                    "status": {"stage": "SCHEDULING", "message": None}}
                return self._json(200, self._job_info(job_id))
            if job_id not in hub.jobs:
                return self._json(404, {"error": "Job not found"})
            if action == "cancel":
                hub.jobs[job_id]["status"] = {"stage": "CANCELED", "message": "canceled by the user"}
                return self._json(200, {})
            if action == "logs":
                return self._sse(hub.jobs[job_id]["logs"])
            return self._json(200, self._job_info(job_id))

        def _sse(self, lines: list[str], end: str = "") -> None:
            """Log lines as the Hub streams them: server-sent events of {"timestamp", "data"} (a Space's lines end
            with their newline, a job's do not)."""
            events = "".join("data: " + json.dumps({"timestamp": "2026-11-23T00:00:00.000Z", "data": line + end})
                             + "\n\n" for line in lines).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Content-Length", str(len(events)))
            self.end_headers()
            self.wfile.write(events)

        def _job_info(self, job_id: str) -> dict[str, Any]:
            job = hub.jobs[job_id]
            spec = job["spec"]
            return {"id": job_id, "createdAt": "2026-11-23T00:00:00.000Z", "dockerImage": spec.get("dockerImage"),
                    "command": spec["command"], "arguments": spec.get("arguments", []),
                    "environment": spec.get("environment", {}), "secrets": sorted(spec.get("secrets", {})),
                    "flavor": spec["flavor"], "labels": spec.get("labels"), "status": job["status"],
                    "owner": {"id": "u1", "name": job["namespace"], "type": "user"}}

        def _create(self, payload: dict[str, Any]) -> None:
            user = self._user()
            if user is None:
                return self._json(401, {"error": "Invalid credentials in Authorization header"})
            namespace = payload.get("organization") or user["name"]
            repo_type = payload.get("type") or "model"
            repo_id = f"{namespace}/{payload['name']}"
            url = f"{hub.url}/{PREFIXES[repo_type]}{repo_id}"
            if user["role"] != "write" or namespace != user["name"]:
                return self._json(403, {"error": "You don't have the rights to create a repository here"})
            if (repo_type, repo_id) in hub.repos:
                return self._json(409, {"error": "You already created this repo", "url": url})
            repo = Repo(repo_type, repo_id, payload.get("visibility", "public") != "public" or
                        bool(payload.get("private")), hardware=payload.get("hardware") or "",
                        variables={v["key"]: v["value"] for v in payload.get("variables") or []},
                        secrets={v["key"]: v["value"] for v in payload.get("secrets") or []},
                        sdk=payload.get("sdk") or "")
            files = {".gitattributes": b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n"}
            repo.commits.append({"oid": hashlib.sha1(f"{repo_id}:init".encode()).hexdigest(),
                                 "files": files, "message": "initial commit"})
            hub.repos[(repo_type, repo_id)] = repo
            return self._json(200, {"url": url, "name": repo_id})

        def _api_repo(self, method: str, repo_type: str, repo_id: str, action: str | None, revision: str,
                      rest: str, body: bytes) -> None:
            repo = self._repo(repo_type, repo_id, write=action in ("preupload", "commit", "hardware", "variables",
                                                                   "secrets", "runtime", "pause", "logs"))
            if repo is None:
                return
            if action == "hardware":
                repo.hardware = json.loads(body)["flavor"]
                return self._json(200, {"stage": "BUILDING", "hardware": {"current": None, "requested": repo.hardware}})
            if action == "secrets":
                payload = json.loads(body)
                repo.secrets[payload["key"]] = payload["value"]
                return self._json(200, {})
            if action == "runtime":
                return self._json(200, repo.runtime())
            if action == "pause":
                repo.stage = "PAUSED"
                return self._json(200, repo.runtime())
            if action == "logs":
                return self._sse(repo.logs, "\n")
            if action == "variables":
                payload = json.loads(body)
                repo.variables[payload["key"]] = payload["value"]
                return self._json(200, {k: {"value": v, "updatedAt": "2026-11-23T00:00:00.000Z"}
                                        for k, v in repo.variables.items()})
            commit = repo.at(revision)
            if commit is None:
                return self._json(404, {"error": "Invalid rev id"}, {"X-Error-Code": "RevisionNotFound"})
            if action in (None, "revision"):
                return self._json(200, {"id": repo_id, "author": repo_id.split("/")[0], "sha": commit["oid"],
                                        "private": repo.private, "disabled": False, "gated": False, "tags": [],
                                        "lastModified": "2026-11-23T00:00:00.000Z",
                                        "siblings": [{"rfilename": p} for p in sorted(commit["files"])]})
            if action == "tree":
                return self._json(200, [self._entry(repo, p, data) for p, data in sorted(commit["files"].items())
                                        if p.startswith(rest)])
            if action == "preupload":
                files = json.loads(body)["files"]
                return self._json(200, {"files": [self._upload_mode(repo, f) for f in files]})
            if action == "commit":
                return self._commit(repo, body)
            return self._json(200, {"branches": [{"name": "main", "ref": "refs/heads/main",
                                                  "targetCommit": repo.head()["oid"]}], "tags": [], "converts": []})

        def _entry(self, repo: Repo, path: str, data: bytes) -> dict[str, Any]:
            entry: dict[str, Any] = {"type": "file", "oid": git_blob_id(data), "size": len(data), "path": path}
            if path in repo.lfs_paths:
                entry["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
            return entry

        def _upload_mode(self, repo: Repo, file: dict[str, Any]) -> dict[str, Any]:
            lfs = file["size"] > LFS_THRESHOLD or file["path"].endswith(".safetensors")
            current = repo.head()["files"].get(file["path"])
            oid = None
            if current is not None:
                oid = hashlib.sha256(current).hexdigest() if lfs else git_blob_id(current)
            return {"path": file["path"], "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False, "oid": oid}

        def _lfs_batch(self, repo_type: str, repo_id: str, payload: dict[str, Any]) -> None:
            if self._repo(repo_type, repo_id, write=payload.get("operation") == "upload") is None:
                return
            objects = []
            for item in payload["objects"]:
                entry: dict[str, Any] = {"oid": item["oid"], "size": item["size"], "authenticated": True}
                if item["oid"] not in hub.lfs:  # already stored objects need no upload: a retry resumes here
                    entry["actions"] = {"upload": {"href": f"{hub.url}/lfs-upload/{item['oid']}"}}
                objects.append(entry)
            return self._json(200, {"transfer": "basic", "objects": objects})

        def _commit(self, repo: Repo, body: bytes) -> None:
            lines = [json.loads(line) for line in body.splitlines() if line.strip()]
            header = lines[0]["value"]
            head = repo.head()
            if header.get("parentCommit") and not head["oid"].startswith(header["parentCommit"]):
                return self._json(412, {"error": "A commit has happened since. Please refresh and try again."})
            files = dict(head["files"])
            for line in lines[1:]:
                value = line["value"]
                if line["key"] == "file":
                    files[value["path"]] = base64.b64decode(value["content"])
                elif line["key"] == "lfsFile":
                    if value["oid"] not in hub.lfs:
                        return self._json(422, {"error": f"LFS object {value['oid']} was never uploaded"})
                    files[value["path"]] = hub.lfs[value["oid"]]
                    repo.lfs_paths.add(value["path"])
                elif line["key"] in ("deletedFile", "deletedFolder"):
                    files = {p: d for p, d in files.items() if p != value["path"]
                             and not p.startswith(value["path"].rstrip("/") + "/")}
            oid = hashlib.sha1(f"{head['oid']}:{time.time_ns()}:{len(repo.commits)}".encode()).hexdigest()
            repo.commits.append({"oid": oid, "files": files, "message": header["summary"]})
            url = f"{hub.url}/{PREFIXES[repo.repo_type]}{repo.repo_id}/commit/{oid}"
            return self._json(200, {"commitUrl": url, "commitOid": oid, "pullRequestUrl": None})

        def _resolve(self, repo_type: str, repo_id: str, revision: str, path: str) -> None:
            repo = self._repo(repo_type, repo_id)
            if repo is None:
                return
            commit = repo.at(revision)
            if commit is None or path not in commit["files"]:
                return self._json(404, {"error": "Entry not found"}, {"X-Error-Code": "EntryNotFound"})
            data = commit["files"][path]
            etag = hashlib.sha256(data).hexdigest() if path in repo.lfs_paths else git_blob_id(data)
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("ETag", f'"{etag}"')
            self.send_header("X-Repo-Commit", commit["oid"])
            if path in repo.lfs_paths:
                self.send_header("X-Linked-Etag", f'"{etag}"')
                self.send_header("X-Linked-Size", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

    return Handler


def _type(prefix: str | None) -> str:
    return {"datasets": "dataset", "spaces": "space"}.get(prefix or "", "model")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=7870)
    parser.add_argument("--token", required=True, help="the token the fake Hub accepts (write role)")
    parser.add_argument("--user", default="ada")
    args = parser.parse_args()
    hub = FakeHub()
    hub.add_token(args.token, args.user)
    print(f"fake Hub for {args.user} at {hub.start(args.port)}  (HF_ENDPOINT={hub.url})", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        hub.stop()


if __name__ == "__main__":
    main()
