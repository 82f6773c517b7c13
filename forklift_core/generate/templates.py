"""Question phrasings: at least five per family, including reframings ("in the source code", "in the configuration")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from forklift_core.generate.families import absent_symbol
from forklift_core.records import Fact


@dataclass(frozen=True)
class Template:
    """One phrasing of a family's question; its id is stable so splits can hold a phrasing out."""

    id: str
    text: str


def _family(prefix: str, *texts: str) -> tuple[Template, ...]:
    return tuple(Template(f"{prefix}.{i}", text) for i, text in enumerate(texts, 1))


TEMPLATES: dict[str, tuple[Template, ...]] = {
    "definition_location": _family(
        "loc",
        "Where is `{label}` defined?",
        "In which file and on which line is `{label}` defined in the source code?",
        "Which file of this repository contains the definition of `{label}`, and at what line?",
        "Point me to the definition of `{label}` in the codebase.",
        "Where would I find `{label}` in the project's source tree?",
        "I need to edit `{label}`. Which file and line should I open?",
    ),
    "kind_signature": _family(
        "sig",
        "What kind of symbol is `{label}`, and what is its signature?",
        "What is the signature of `{label}` in the source code?",
        "How is `{label}` declared in this codebase?",
        "Is `{label}` a function, a method or a type? Give its signature.",
        "Show how the project declares `{label}`.",
    ),
    "parameters_return": _family(
        "params",
        "What parameters does `{label}` take?",
        "Which arguments must I pass to `{label}`, and what does it return?",
        "List the parameters of `{label}` as defined in the codebase.",
        "What is the parameter list of `{label}` in the source code?",
        "How do I call `{label}`: which inputs does it expect?",
    ),
    "enclosing_scope": _family(
        "scope",
        "In `{path}`, what encloses `{name}`: which class, struct or namespace is it part of?",
        "Which type or namespace does `{name}` in `{path}` belong to?",
        "In the source code of `{path}`, where does `{name}` live: what is its enclosing scope?",
        "`{name}` is defined in `{path}`. Inside which class or module?",
        "What is the parent scope of `{name}` in the file `{path}`?",
    ),
    "members": _family(
        "members",
        "What members does `{label}` have?",
        "List the methods and fields of `{label}`.",
        "Which functions and fields are defined inside `{label}` in the source code?",
        "What does `{label}` contain?",
        "Enumerate the members of `{label}` as written in the codebase.",
    ),
    "callers": _family(
        "callers",
        "Who calls `{label}`?",
        "Which functions call `{label}` in this codebase?",
        "Where is `{label}` called from in the source code?",
        "List the callers of `{label}`.",
        "If I change `{label}`, which call sites are affected?",
    ),
    "callees": _family(
        "callees",
        "What does `{label}` call?",
        "Which functions does `{label}` invoke?",
        "List the functions called from `{label}` in the source code.",
        "What are the callees of `{label}`?",
        "Which other functions of the project does `{label}` depend on?",
    ),
    "purpose": _family(
        "purpose",
        "What does `{label}` do?",
        "Explain the purpose of `{label}`.",
        "What is `{label}` for, according to the source code?",
        "Summarise what `{label}` is responsible for in this codebase.",
        "Why does the project have `{label}`?",
    ),
    "file_symbols": _family(
        "file",
        "Which symbols does `{path}` define?",
        "What is defined in the file `{path}`?",
        "List the top-level functions and classes in `{path}`.",
        "What can I find in `{path}` in the source code?",
        "Give an overview of the definitions in `{path}`.",
    ),
    "directory_purpose": _family(
        "dir",
        "What is the `{directory}` directory for?",
        "What does the `{directory}` folder contain?",
        "Explain the role of `{directory}` in this repository.",
        "What lives in `{directory}` in the project's layout?",
        "Why does the codebase have a `{directory}` directory?",
    ),
    "build_test": _family(
        "build",
        "How do I {verb} this project?",
        "What is the command to {verb} the project, according to its configuration?",
        "Which command should I use to {verb} this codebase?",
        "In the build configuration, which command is used to {verb}?",
        "I just cloned the repository. How do I {verb} it?",
    ),
    "last_change": _family(
        "change",
        "When did `{path}` last change, and why?",
        "What was the most recent commit to touch `{path}`?",
        "According to the git history, when was `{path}` last modified and for what reason?",
        "Who changed `{path}` last, and what did the commit say?",
        "What is the latest change recorded for `{path}` in the repository's history?",
    ),
    absent_symbol.FAMILY: _family("absent", *absent_symbol.TEMPLATES),
}

ACTION_VERBS = {"build": "build", "test": "test", "install": "install", "run": "run", "lint": "lint"}


def _slots(fact: Fact) -> dict[str, Any]:
    data = fact.data
    return {
        "label": data.get("label", fact.subject), "name": data.get("name", fact.subject), "path": fact.path,
        "directory": data.get("directory", fact.subject), "verb": ACTION_VERBS.get(data.get("action", ""), "build"),
    }


def phrasings(fact: Fact, count: int) -> list[tuple[Template, str]]:
    """The first `count` phrasings of a fact's question, with their templates."""
    slots = _slots(fact)
    out = []
    for template in TEMPLATES[fact.family][:count]:
        out.append((template, template.text.format(**slots)))
    return out
