"""Clone an untrusted https git URL safely: fixed argv, no hooks, pinned public address, caps."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from forklift_core.errors import BadInputError, ToolError
from forklift_core.netguard import public_address
from forklift_core.progress import Progress


@dataclass(frozen=True)
class GitUrl:
    """A validated https URL and the public address git must connect to."""

    url: str
    host: str
    port: int
    address: str


def looks_like_url(spec: str) -> bool:
    """True for anything that names a remote rather than a path (so it is validated as a URL)."""
    return "://" in spec or spec.startswith(("git@", "ext::", "fd::")) or "::" in spec.split("/", 1)[0]


def validate_git_url(spec: str) -> GitUrl:
    """Accept only https URLs without credentials whose host resolves to public addresses."""
    if spec.startswith("git@") or "::" in spec.split("/", 1)[0]:
        raise BadInputError(f"only https:// git URLs are accepted, not {spec.split(':', 1)[0]!r} transports")
    parts = urlsplit(spec)
    if parts.scheme.lower() != "https":
        raise BadInputError(f"only https:// git URLs are accepted (got {parts.scheme or 'no'} scheme)")
    if parts.username or parts.password:
        raise BadInputError("credentials inside the URL are not accepted; pass a token separately")
    host = parts.hostname
    if not host:
        raise BadInputError(f"the URL {spec!r} has no host")
    try:
        port = parts.port or 443
    except ValueError as exc:
        raise BadInputError(f"bad port in URL {spec!r}") from exc
    return GitUrl(url=parts.geturl(), host=host, port=port, address=public_address(host, port))


def git_env(home: Path) -> dict[str, str]:
    """An environment that ignores every user and system git config and never prompts."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "/bin/false",
        "GIT_LFS_SKIP_SMUDGE": "1",
        "GIT_ALLOW_PROTOCOL": "https",
        "LC_ALL": "C",
    }
    # A private CA bundle (corporate proxy, or a test server) is the one setting worth passing through.
    for name in ("GIT_SSL_CAINFO", "SSL_CERT_FILE"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    return env


def clone_argv(target: GitUrl, dest: Path) -> list[str]:
    """The fixed git argument list: shallow, single branch, no hooks, submodules, symlinks or LFS."""
    pin = f"{target.host}:{target.port}:{target.address if ':' not in target.address else '[' + target.address + ']'}"
    settings = {
        "core.hooksPath": os.devnull,
        "core.symlinks": "false",
        "core.fsmonitor": "false",
        "protocol.allow": "never",
        "protocol.https.allow": "always",
        "http.followRedirects": "false",
        "http.curloptResolve": pin,  # connect to the address we checked, not a second DNS answer
        "submodule.recurse": "false",
        "filter.lfs.smudge": "",
        "filter.lfs.process": "",
        "filter.lfs.required": "false",
    }
    argv = ["git"]
    for key, value in settings.items():
        argv += ["-c", f"{key}={value}"]
    return argv + ["clone", "--depth=1", "--single-branch", "--no-tags", "--no-recurse-submodules",
                   "--quiet", "--", target.url, str(dest)]


def _tree_bytes(root: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass
    return total


def clone(target: GitUrl, dest: Path, timeout_s: int, max_bytes: int, progress: Progress) -> None:
    """Run git clone under a wall-clock timeout and a size cap, checking both while it runs."""
    if shutil.which("git") is None:
        raise ToolError("git is not installed")
    home = dest.parent / ".git-home"
    home.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(clone_argv(target, dest), env=git_env(home), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    started = time.monotonic()
    try:
        while proc.poll() is None:
            elapsed = time.monotonic() - started
            progress.report(min(elapsed / timeout_s, 0.95) * 0.2, f"cloning {target.url}")
            if elapsed > timeout_s:
                raise ToolError(f"git clone took longer than {timeout_s}s; stopped")
            if dest.exists() and _tree_bytes(dest) > max_bytes:
                raise BadInputError(f"repository is larger than {max_bytes // (1024 * 1024)} MiB; stopped")
            time.sleep(0.3)
    except BaseException:
        proc.kill()
        proc.wait()
        shutil.rmtree(dest, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(home, ignore_errors=True)
    if proc.returncode != 0:
        err = (proc.stderr.read() if proc.stderr else b"").decode("utf-8", "replace").strip().splitlines()
        raise ToolError(f"git clone failed: {err[-1] if err else 'exit code ' + str(proc.returncode)}")
    if _tree_bytes(dest) > max_bytes:
        shutil.rmtree(dest, ignore_errors=True)
        raise BadInputError(f"repository is larger than {max_bytes // (1024 * 1024)} MiB")
