"""cscope for C call edges: one database build, then every 'who calls X' query in one line-mode session."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from typing import Sequence

from forklift_core.errors import ToolError
from forklift_core.ingest.ctags import memory_cap
from forklift_core.ingest.treesitter import RawReference

_RESULT_COUNT = re.compile(r"^(?:>> )?cscope: (\d+) lines?$")
# cscope's file list cannot quote every name, and a line starting with '-' is read as an option: both left out.
_SAFE_PATH = re.compile(r"^[^\s\"'\\-][^\s\"'\\]*$")


def cscope_available() -> bool:
    """True when the cscope binary is installed."""
    return shutil.which("cscope") is not None


def parse_line_mode(output: str, names: Sequence[str]) -> list[RawReference]:
    """Results of a line-mode session: each '>>' prompt answers the next query, in order."""
    refs: list[RawReference] = []
    query = -1
    pending = 0
    for line in output.splitlines():
        if pending:
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[2].isdigit() and 0 <= query < len(names):
                refs.append(RawReference(parts[0], int(parts[2]), names[query], "call"))
            pending -= 1
            continue
        if line.startswith(">>"):
            query += 1
        match = _RESULT_COUNT.match(line.strip())
        if match:
            pending = int(match.group(1))
    return refs


def cscope_callers(root: str, c_files: Sequence[str], function_names: Sequence[str], timeout_s: int,
                   memory_mb: int) -> list[RawReference]:
    """Call sites of each named C function, found by cscope over an explicit file list."""
    files = [f for f in c_files if _SAFE_PATH.fullmatch(f)]
    names = sorted({n for n in function_names if n.isidentifier()})
    if not files or not names:
        return []
    with tempfile.TemporaryDirectory(prefix="forklift-cscope-") as scratch:
        listing = f"{scratch}/files"
        database = f"{scratch}/cscope.out"
        with open(listing, "w", encoding="utf-8") as handle:
            handle.write("\n".join(files) + "\n")
        limits = {"cwd": root, "timeout": timeout_s, "preexec_fn": memory_cap(memory_mb * 1024 * 1024),
                  "capture_output": True}
        try:
            build = subprocess.run(["cscope", "-b", "-q", "-k", "-i", listing, "-f", database], **limits)
            if build.returncode != 0:
                raise ToolError(f"cscope could not build its database: {build.stderr.decode(errors='replace')[-200:]}")
            queries = "".join(f"3{name}\n" for name in names).encode()
            session = subprocess.run(["cscope", "-d", "-l", "-f", database], input=queries, **limits)
        except subprocess.TimeoutExpired as exc:
            raise ToolError(f"cscope took longer than {timeout_s}s") from exc
    return parse_line_mode(session.stdout.decode("utf-8", "replace"), names)
