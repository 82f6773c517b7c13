"""Answers rendered from a fact's data: a full grounded sentence (SFT) and a concise form.

Negatives reuse these renderers with wrong data, so a rejected answer reads exactly like a right one.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from forklift_core.generate.families import absent_symbol

_ARTICLE_VOWELS = tuple("aeiou")


def _a(word: str) -> str:
    return f"an {word}" if word.startswith(_ARTICLE_VOWELS) else f"a {word}"


def _names(items: list[str]) -> str:
    quoted = [f"`{i}`" for i in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _more(total: int, shown: int) -> str:
    return f" (and {total - shown} more)" if total > shown else ""


def definition_location(d: dict[str, Any]) -> tuple[str, str]:
    places = d["locations"]
    if len(places) == 1:
        p = places[0]
        return (f"`{d['label']}` is defined in `{p['path']}` at line {p['line']}.", f"`{p['path']}:{p['line']}`")
    listed = "; ".join(f"`{p['path']}` at line {p['line']}" for p in places)
    return (f"`{d['label']}` is defined in {len(places)} places: {listed}.",
            ", ".join(f"`{p['path']}:{p['line']}`" for p in places))


def kind_signature(d: dict[str, Any]) -> tuple[str, str]:
    if d["signature"]:
        return (f"`{d['label']}` is {_a(d['kind'])} in `{d['path']}` with the signature `{d['name']}{d['signature']}`.",
                f"{d['kind']} `{d['name']}{d['signature']}`")
    return f"`{d['label']}` is {_a(d['kind'])} defined in `{d['path']}`.", f"{d['kind']}"


def parameters_return(d: dict[str, Any]) -> tuple[str, str]:
    params = d["parameters"]
    takes = f"takes {len(params)} parameter{'s' if len(params) != 1 else ''}: {_names(params)}" if params \
        else "takes no parameters"
    returns = f" and returns `{d['returns']}`" if d["returns"] else ""
    concise = (", ".join(params) or "no parameters") + (f" -> {d['returns']}" if d["returns"] else "")
    return f"`{d['label']}` (in `{d['path']}`) {takes}{returns}.", concise


def enclosing_scope(d: dict[str, Any]) -> tuple[str, str]:
    return (f"`{d['name']}` is {_a(d['kind'])} of the {d['scope_kind']} `{d['scope']}` in `{d['path']}`.",
            f"`{d['scope']}` ({d['scope_kind']})")


def members(d: dict[str, Any]) -> tuple[str, str]:
    return (f"The {d['kind']} `{d['label']}` in `{d['path']}` has these members: {_names(d['members'])}"
            f"{_more(d['total'], len(d['members']))}.", ", ".join(d["members"]))


def callers(d: dict[str, Any]) -> tuple[str, str]:
    listed = ", ".join(f"`{c['name']}` (`{c['path']}` line {c['line']})" for c in d["callers"])
    return f"`{d['label']}` is called by {listed}.", ", ".join(c["name"] for c in d["callers"])


def callees(d: dict[str, Any]) -> tuple[str, str]:
    return (f"`{d['label']}` calls {_names([c['name'] for c in d['callees']])}.",
            ", ".join(c["name"] for c in d["callees"]))


def purpose(d: dict[str, Any]) -> tuple[str, str]:
    where = f"{_a(d['kind'])} in `{d['path']}` (lines {d['line']}–{d['end_line']})"
    if d["doc"]:
        return f"`{d['label']}` is {where}. Its documentation says: {d['doc']}", d["doc"]
    return (f"`{d['label']}` is {where}. It has no docstring or comment, so its purpose has to be read from its code.",
            "undocumented")


def file_symbols(d: dict[str, Any]) -> tuple[str, str]:
    listed = ", ".join(f"`{s['name']}` ({s['kind']}, line {s['line']})" for s in d["symbols"])
    return (f"`{d['path']}` defines {listed}{_more(d['total'], len(d['symbols']))}.",
            ", ".join(s["name"] for s in d["symbols"]))


def directory_purpose(d: dict[str, Any]) -> tuple[str, str]:
    if d["doc"]:
        return f"`{d['directory']}/` ({d['files']} source files): {d['doc']} (from `{d['source']}`)", d["doc"]
    return (f"`{d['directory']}/` holds {d['files']} source files; no README or package docstring describes it.",
            "undocumented")


def build_test(d: dict[str, Any]) -> tuple[str, str]:
    first, rest = d["commands"][0], d["commands"][1:]
    also = (" Also: " + "; ".join(f"`{c['command']}` ({c['detail']})" for c in rest) + ".") if rest else ""
    return (f"To {'run the tests' if d['action'] == 'test' else d['action']}, run `{first['command']}` "
            f"({first['detail']}, `{first['path']}` line {first['line']}).{also}", f"`{first['command']}`")


def last_change(d: dict[str, Any]) -> tuple[str, str]:
    return (f"`{d['path']}` last changed on {d['date']} in commit {d['commit']} by {d['author']}: "
            f"\"{d['subject']}\".", f"{d['commit']} ({d['date']}): {d['subject']}")


RENDERERS: dict[str, Callable[[dict[str, Any]], tuple[str, str]]] = {
    "definition_location": definition_location, "kind_signature": kind_signature,
    "parameters_return": parameters_return, "enclosing_scope": enclosing_scope, "members": members,
    "callers": callers, "callees": callees, "purpose": purpose, "file_symbols": file_symbols,
    "directory_purpose": directory_purpose, "build_test": build_test, "last_change": last_change,
    absent_symbol.FAMILY: absent_symbol.render,
}


def render(family: str, data: dict[str, Any]) -> tuple[str, str]:
    """(full grounded sentence, concise form) for a family's data."""
    return RENDERERS[family](data)


def key_claims(family: str, data: dict[str, Any]) -> list[str]:
    """The strings an answer must state to state this fact (used to check on-policy answers and grade)."""
    if family == "definition_location":
        return [p["path"] for p in data["locations"][:1]] + [str(p["line"]) for p in data["locations"][:1]]
    if family == "kind_signature":
        return [data["kind"]] + ([data["signature"]] if data["signature"] else [])
    if family == "parameters_return":
        return list(data["parameters"]) + ([data["returns"]] if data["returns"] else [])
    if family == "enclosing_scope":
        return [data["scope"]]
    if family == "members":
        return list(data["members"])
    if family == "callers":
        return [c["name"] for c in data["callers"]]
    if family == "callees":
        return [c["name"] for c in data["callees"]]
    if family == "purpose":
        return [data["doc"]] if data["doc"] else [data["path"]]
    if family == "file_symbols":
        return [s["name"] for s in data["symbols"]]
    if family == "directory_purpose":
        return [data["doc"]] if data["doc"] else [data["directory"]]
    if family == "build_test":
        return [data["commands"][0]["command"]]
    if family == "last_change":
        return [data["commit"], data["date"]]
    return []


def _contains(answer: str, claim: str) -> bool:
    if claim.isdigit():  # a line number must stand alone: 12 is not stated by 120
        return re.search(rf"(?<!\d){claim}(?!\d)", answer) is not None
    return claim in answer


def states_fact(answer: str, family: str, data: dict[str, Any]) -> bool:
    """True when the answer contains every key claim of the fact (exact substrings, not fuzzy)."""
    if family == absent_symbol.FAMILY:
        return absent_symbol.abstains(answer)
    claims = key_claims(family, data)
    return bool(claims) and all(_contains(answer, claim) for claim in claims)
