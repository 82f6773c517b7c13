"""Build facts: how to build, test, install and run a project, read from its build files and README."""

from __future__ import annotations

import json
import posixpath
import re
import tomllib
from pathlib import Path
from typing import Callable, Iterable

from forklift_core.records import BuildFact, FileRecord

_ACTION_WORDS = (
    ("test", ("test", "check", "pytest", "spec", "ctest")),
    ("install", ("install", "setup", "deps", "bootstrap")),
    ("build", ("build", "all", "compile", "dist", "package", "make")),
    ("lint", ("lint", "fmt", "format", "style", "typecheck", "vet")),
    ("run", ("run", "start", "serve", "dev", "usage", "quick", "getting started", "example")),
)
_MAKE_TARGET = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.\-/]*)\s*:(?!=)")
_FENCE = re.compile(r"^\s*(```|~~~)\s*([A-Za-z]*)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*)")
_SHELL_FENCES = {"", "sh", "bash", "shell", "console", "zsh", "shell-session", "cmd", "powershell"}


def action_for(name: str) -> str:
    """Classify a target, script or heading by the words it uses."""
    lowered = name.lower()
    for action, words in _ACTION_WORDS:
        if any(word in lowered for word in words):
            return action
    return "other"


def _prefixed(directory: str, command: str) -> str:
    return f"cd {directory} && {command}" if directory else command


def _makefile(text: str, path: str, directory: str) -> Iterable[BuildFact]:
    for number, line in enumerate(text.splitlines(), 1):
        match = _MAKE_TARGET.match(line)
        if match and not match.group(1).startswith(".") and "%" not in match.group(1):
            target = match.group(1)
            yield BuildFact(action_for(target), _prefixed(directory, f"make {target}"), "make", path, number,
                            f"Makefile target {target}")


def _cmake(text: str, path: str, directory: str) -> Iterable[BuildFact]:
    project = re.search(r"project\s*\(\s*([A-Za-z0-9_\-]+)", text, re.IGNORECASE)
    line = text[: project.start()].count("\n") + 1 if project else 1
    name = project.group(1) if project else "the project"
    yield BuildFact("build", _prefixed(directory, "cmake -S . -B build && cmake --build build"), "cmake", path,
                    line, f"CMake project {name}")
    tests = re.search(r"(enable_testing|add_test)\s*\(", text, re.IGNORECASE)
    if tests:
        yield BuildFact("test", _prefixed(directory, "ctest --test-dir build"), "cmake", path,
                        text[: tests.start()].count("\n") + 1, "CMake tests (enable_testing/add_test)")


def _line_of(text: str, needle: str) -> int:
    index = text.find(needle)
    return text[:index].count("\n") + 1 if index >= 0 else 1


def _pyproject(text: str, path: str, directory: str) -> Iterable[BuildFact]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return
    project = data.get("project", {})
    name = project.get("name", "") if isinstance(project, dict) else ""
    tool = data.get("tool", {}) if isinstance(data.get("tool"), dict) else {}
    if "poetry" in tool:
        yield BuildFact("install", _prefixed(directory, "poetry install"), "poetry", path, _line_of(text, "[tool.poetry"),
                        f"Poetry project {name}".strip())
    elif "build-system" in data or project:
        yield BuildFact("install", _prefixed(directory, "pip install ."), "pip", path, _line_of(text, "[build-system"),
                        f"Python package {name}".strip())
    if "pytest" in tool:
        yield BuildFact("test", _prefixed(directory, "pytest"), "pytest", path, _line_of(text, "[tool.pytest"),
                        "pytest configured in pyproject.toml")
    scripts = project.get("scripts", {}) if isinstance(project, dict) else {}
    for script, target in (scripts.items() if isinstance(scripts, dict) else ()):
        yield BuildFact("run", script, "pip", path, _line_of(text, script), f"console script {script} -> {target}")


def _setup_py(text: str, path: str, directory: str) -> Iterable[BuildFact]:
    yield BuildFact("install", _prefixed(directory, "pip install ."), "pip", path, 1, "setuptools setup.py")


def _setup_cfg(text: str, path: str, directory: str) -> Iterable[BuildFact]:
    if "[metadata]" in text or "[options]" in text:
        yield BuildFact("install", _prefixed(directory, "pip install ."), "pip", path, _line_of(text, "[metadata]"),
                        "setuptools setup.cfg")
    if "[tool:pytest]" in text:
        yield BuildFact("test", _prefixed(directory, "pytest"), "pytest", path, _line_of(text, "[tool:pytest]"),
                        "pytest configured in setup.cfg")


def _package_json(text: str, path: str, directory: str) -> Iterable[BuildFact]:
    try:
        data = json.loads(text)
    except ValueError:
        return
    scripts = data.get("scripts", {}) if isinstance(data, dict) else {}
    if isinstance(data, dict):
        yield BuildFact("install", _prefixed(directory, "npm install"), "npm", path, 1,
                        f"npm package {data.get('name', '')}".strip())
    for script, body in (scripts.items() if isinstance(scripts, dict) else ()):
        command = f"npm {script}" if script in ("test", "start") else f"npm run {script}"
        yield BuildFact(action_for(script), _prefixed(directory, command), "npm", path, _line_of(text, f'"{script}"'),
                        f"script {script}: {body}")


def _cargo(text: str, path: str, directory: str) -> Iterable[BuildFact]:
    try:
        name = tomllib.loads(text).get("package", {}).get("name", "")
    except (tomllib.TOMLDecodeError, AttributeError):
        name = ""
    for action, command in (("build", "cargo build"), ("test", "cargo test")):
        yield BuildFact(action, _prefixed(directory, command), "cargo", path, _line_of(text, "[package]"),
                        f"Cargo package {name}".strip())


def _go_mod(text: str, path: str, directory: str) -> Iterable[BuildFact]:
    module = re.search(r"^module\s+(\S+)", text, re.MULTILINE)
    detail = f"Go module {module.group(1)}" if module else "Go module"
    for action, command in (("build", "go build ./..."), ("test", "go test ./...")):
        yield BuildFact(action, _prefixed(directory, command), "go", path, 1, detail)


def readme_commands(text: str, path: str) -> Iterable[BuildFact]:
    """Shell commands in fenced blocks under headings about installing, building, testing or running."""
    heading, fence, language = "", None, ""
    for number, line in enumerate(text.splitlines(), 1):
        fence_match = _FENCE.match(line)
        if fence_match:
            if fence is None:
                fence, language = fence_match.group(1), fence_match.group(2).lower()
            elif line.strip().startswith(fence):
                fence = None
            continue
        if fence is None:
            heading_match = _HEADING.match(line)
            if heading_match:
                heading = heading_match.group(1).strip()
            continue
        command = line.strip().removeprefix("$ ").strip()
        action = action_for(heading)
        if command and not command.startswith("#") and language in _SHELL_FENCES and action != "other":
            yield BuildFact(action, command, "readme", path, number, f"README section '{heading}'")


_PARSERS: dict[str, Callable[[str, str, str], Iterable[BuildFact]]] = {
    "Makefile": _makefile, "makefile": _makefile, "GNUmakefile": _makefile, "CMakeLists.txt": _cmake,
    "pyproject.toml": _pyproject, "setup.py": _setup_py, "setup.cfg": _setup_cfg, "package.json": _package_json,
    "Cargo.toml": _cargo, "go.mod": _go_mod,
}


def extract_build_facts(root: Path, files: Iterable[FileRecord], max_depth: int = 2) -> list[BuildFact]:
    """Build facts from build files at most max_depth folders deep, and from top-level READMEs."""
    facts: list[BuildFact] = []
    for record in files:
        name = posixpath.basename(record.path)
        directory = posixpath.dirname(record.path)
        depth = record.path.count("/")
        parser = _PARSERS.get(name)
        is_readme = depth == 0 and name.upper().startswith("README")
        if (parser is None or depth > max_depth) and not is_readme:
            continue
        text = (root / record.path).read_text(encoding="utf-8", errors="replace")
        facts.extend(readme_commands(text, record.path) if is_readme else parser(text, record.path, directory))  # type: ignore[misc]
    return facts
