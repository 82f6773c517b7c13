"""Structural hard negatives: the fact swapped for a plausible wrong one that the code itself suggests."""

from __future__ import annotations

import posixpath
import random
from typing import Any, Callable, Iterator

from forklift_core.generate.answers import render, states_fact
from forklift_core.generate.families import absent_symbol
from forklift_core.generate.facts import CALLABLE, IndexView, first_sentences, label_of, split_parameters
from forklift_core.ingest.languages import TYPE_KINDS
from forklift_core.records import Fact

Wrong = tuple[str, dict[str, Any]]  # (negative kind, wrong data for the same renderer)


def _siblings(view: IndexView, fact: Fact, kinds: frozenset[str]) -> list[dict[str, Any]]:
    """Other symbols of the same kinds in the same file, then the same folder."""
    same_file = [s for s in view.by_path.get(fact.path, []) if s["id"] != fact.symbol_id and s["kind"] in kinds]
    if same_file:
        return same_file
    return [s for s in view.by_dir.get(posixpath.dirname(fact.path), []) if s["id"] != fact.symbol_id
            and s["kind"] in kinds]


def _location(view: IndexView, fact: Fact, rng: random.Random) -> Iterator[Wrong]:
    data = fact.data
    place = data["locations"][0]
    if len(data["locations"]) > 1:
        yield "missing_location", {**data, "locations": data["locations"][:-1]}
        return
    shift = rng.choice([-3, -2, -1, 1, 2, 3, 5])
    if place["line"] + shift >= 1:
        yield "line_shift", {**data, "locations": [{"path": place["path"], "line": place["line"] + shift}]}
    name = data["label"].split(".")[-1]
    for other in view.by_name.get(name, []):
        if other["kind"] == "prototype" and other["path"] != place["path"]:
            yield "declaration_not_definition", {**data, "locations": [{"path": other["path"], "line": other["line"]}]}
        elif other["path"] != place["path"] and posixpath.dirname(other["path"]) != posixpath.dirname(place["path"]):
            yield "same_name_elsewhere", {**data, "locations": [{"path": other["path"], "line": other["line"]}]}
    neighbours = sorted(p for p in view.code_files_by_dir.get(posixpath.dirname(place["path"]), [])
                        if p != place["path"])
    if neighbours:
        yield "sibling_file", {**data, "locations": [{"path": rng.choice(neighbours), "line": place["line"]}]}


def _signature(view: IndexView, fact: Fact, rng: random.Random) -> Iterator[Wrong]:
    data = fact.data
    for other in _siblings(view, fact, CALLABLE | TYPE_KINDS):
        if other["signature"] and other["signature"] != data["signature"]:
            yield "sibling_signature", {**data, "signature": other["signature"], "kind": other["kind"]}
            break
    swapped = {"function": "method", "method": "function", "class": "struct", "struct": "class",
               "interface": "class", "enum": "class", "macro": "function", "trait": "interface"}.get(data["kind"])
    if swapped:
        yield "wrong_kind", {**data, "kind": swapped}


def _parameters(view: IndexView, fact: Fact, rng: random.Random) -> Iterator[Wrong]:
    data = fact.data
    for other in _siblings(view, fact, frozenset({"function", "method"})):
        params = split_parameters(other["signature"], other["language"])
        if params != data["parameters"]:
            yield "sibling_parameters", {**data, "parameters": params}
            break
    if data["parameters"]:
        yield "missing_parameter", {**data, "parameters": data["parameters"][:-1]}


def _scope(view: IndexView, fact: Fact, rng: random.Random) -> Iterator[Wrong]:
    data = fact.data
    containers = [s for s in _siblings(view, fact, TYPE_KINDS) if s["name"] != data["scope"].split(".")[-1]]
    if containers:
        other = rng.choice(containers)
        yield "wrong_scope", {**data, "scope": label_of(other), "scope_kind": other["kind"]}


def _members(view: IndexView, fact: Fact, rng: random.Random) -> Iterator[Wrong]:
    data = fact.data
    for other in _siblings(view, fact, TYPE_KINDS):
        names = [m["name"] for m in view.members_of.get((other["path"], other["name"]), [])
                 if not m["name"].startswith("__")][: len(data["members"]) or 1]
        if names and set(names) != set(data["members"]):
            yield "sibling_members", {**data, "members": names, "total": len(names)}
            break
    if len(data["members"]) > 1:
        half = data["members"][: len(data["members"]) // 2]
        yield "missing_members", {**data, "members": half, "total": len(half)}


def _edges(view: IndexView, fact: Fact, rng: random.Random, key: str) -> Iterator[Wrong]:
    """Callers given as callees (and the reverse), or functions nearby that never call it."""
    data = fact.data
    opposite = view.callees_of if key == "callers" else view.callers_of
    name_key = "dst_name" if key == "callers" else "src_name"
    right = {c["name"] for c in data[key]}
    swapped = [{"name": e[name_key], "path": e["path"], "line": e["line"]}
               for e in opposite.get(fact.symbol_id, []) if e[name_key] and e[name_key] not in right]
    if swapped:
        yield ("caller_callee_swap" if key == "callers" else "callee_caller_swap"), {**data, key: swapped[:len(data[key])]}
    strangers = [s for s in _siblings(view, fact, CALLABLE) if s["name"] not in right]
    if strangers:
        pick = rng.sample(strangers, min(len(strangers), max(1, len(data[key]))))
        yield f"wrong_{key[:-1]}", {**data, key: [{"name": s["name"], "path": s["path"], "line": s["line"]} for s in pick]}


def _purpose(view: IndexView, fact: Fact, rng: random.Random) -> Iterator[Wrong]:
    data = fact.data
    documented = [s for s in _siblings(view, fact, CALLABLE | TYPE_KINDS) if s["doc"] and s["doc"] != data["doc"]]
    if documented:
        yield "sibling_doc", {**data, "doc": first_sentences(rng.choice(documented)["doc"])}


def _file_symbols(view: IndexView, fact: Fact, rng: random.Random) -> Iterator[Wrong]:
    data = fact.data
    others = sorted({s["path"] for s in view.by_dir.get(posixpath.dirname(fact.path), [])
                     if s["path"] != fact.path and not s["scope"]})
    if others:
        other = rng.choice(others)
        items = [{"name": s["name"], "kind": s["kind"], "line": s["line"]} for s in view.by_path[other]
                 if not s["scope"]][: len(data["symbols"])]
        yield "sibling_file_symbols", {**data, "symbols": items, "total": len(items)}


def _directory(view: IndexView, fact: Fact, rng: random.Random) -> Iterator[Wrong]:
    data = fact.data
    others = [d for d in view.docs if d["directory"] not in (fact.subject, "")
              and (d["kind"] == "readme" or d["path"].endswith("__init__.py"))]
    if others:
        other = rng.choice(others)
        yield "other_directory_doc", {**data, "doc": first_sentences(other["text"]), "source": other["path"]}


def _build(view: IndexView, fact: Fact, rng: random.Random) -> Iterator[Wrong]:
    data = fact.data
    right = {c["command"] for c in data["commands"]}
    others = [f for f in view.build_facts if f["action"] != data["action"] and f["command"] not in right]
    if others:
        other = rng.choice(others)
        yield "wrong_action", {**data, "commands": [{"command": other["command"], "path": other["path"],
                                                     "line": other["line"], "detail": other["detail"]}]}


def _commit_data(data: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    return {**data, "commit": change["commit"][:12], "date": change["date"][:10], "author": change["author"],
            "subject": change["subject"]}


def _change(view: IndexView, fact: Fact, rng: random.Random) -> Iterator[Wrong]:
    """An older commit of the same file (the file as it was), else another file's newest commit."""
    older = view.history_by_path.get(fact.path, [])[1:2]
    if older:
        yield "older_commit", _commit_data(fact.data, older[0])
        return
    newest = [changes[0] for changes in view.history_by_path.values()
              if changes[0]["commit"][:12] != fact.data["commit"]]
    if newest:
        yield "other_file_commit", _commit_data(fact.data, rng.choice(newest))


GENERATORS: dict[str, Callable[[IndexView, Fact, random.Random], Iterator[Wrong]]] = {
    "definition_location": _location, "kind_signature": _signature, "parameters_return": _parameters,
    "enclosing_scope": _scope, "members": _members,
    "callers": lambda v, f, r: _edges(v, f, r, "callers"), "callees": lambda v, f, r: _edges(v, f, r, "callees"),
    "purpose": _purpose, "file_symbols": _file_symbols, "directory_purpose": _directory, "build_test": _build,
    "last_change": _change, absent_symbol.FAMILY: absent_symbol.invented_locations,
}


def hard_negatives(view: IndexView, fact: Fact, rng: random.Random, limit: int = 2) -> list[tuple[str, str]]:
    """Up to `limit` (kind, rejected answer) pairs, each wrong: never the chosen answer, never stating its fact."""
    chosen, _ = render(fact.family, fact.data)
    out: list[tuple[str, str]] = []
    seen_kinds = set()
    for kind, wrong in GENERATORS[fact.family](view, fact, rng):
        rejected, _ = render(fact.family, wrong)
        if kind in seen_kinds or rejected == chosen or states_fact(rejected, fact.family, fact.data):
            continue
        seen_kinds.add(kind)
        out.append((kind, rejected))
        if len(out) >= limit:
            break
    return out
