"""Facts: checkable statements read straight from the index, one builder per question family."""

from __future__ import annotations

import posixpath
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import pyarrow.compute as pc

from forklift_core.config import GenerateConfig
from forklift_core.generate.families import absent_symbol
from forklift_core.ingest.languages import TYPE_KINDS
from forklift_core.ingest.tables import IndexReader
from forklift_core.generate.split import stable_fraction
from forklift_core.records import Fact, stable_id

ASKABLE_KINDS = frozenset({"function", "method", "macro", "constant"}) | TYPE_KINDS
CALLABLE = frozenset({"function", "method", "macro"})
_RETURN_ARROW = re.compile(r"\)\s*->\s*([^:{=]+?)\s*[:{]?\s*$")


@dataclass
class IndexView:
    """The index loaded once, with the lookups every fact builder needs."""

    symbols: list[dict[str, Any]]
    references: list[dict[str, Any]]
    build_facts: list[dict[str, Any]]
    docs: list[dict[str, Any]]
    files: list[dict[str, Any]]
    history: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, reader: IndexReader) -> "IndexView":
        """Read every table of a project's index (of the references, the resolved calls: all that facts use; a
        kernel's other 1.6 million edges would cost a gigabyte as Python objects)."""
        edges = reader.table("references")
        calls = edges.filter(pc.and_(pc.equal(edges["kind"], "call"), pc.not_equal(edges["dst_id"], "")))
        return cls(reader.symbols(), calls.to_pylist(), reader.build_facts(), reader.docs(),
                   reader.table("files").to_pylist(), reader.history())

    def __post_init__(self) -> None:
        self.by_id = {s["id"]: s for s in self.symbols}
        self.by_label: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.by_name: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.members_of: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for s in self.symbols:
            self.by_label[label_of(s)].append(s)
            self.by_name[s["name"]].append(s)
            if s["scope"]:
                self.members_of[(s["path"], s["scope"].split(".")[-1].split("::")[-1])].append(s)
        self.callers_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.callees_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for edge in self.references:
            if edge["kind"] == "call" and edge["dst_id"]:
                self.callers_of[edge["dst_id"]].append(edge)
                if edge["src_id"]:
                    self.callees_of[edge["src_id"]].append(edge)
        self.paths = {f["path"] for f in self.files}
        self.by_path: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.by_dir: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for s in self.symbols:
            self.by_path[s["path"]].append(s)
            self.by_dir[posixpath.dirname(s["path"])].append(s)
        self.history_by_path: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for change in sorted(self.history, key=lambda h: h["rank"]):
            self.history_by_path[change["path"]].append(change)
        self.code_files_by_dir: dict[str, list[str]] = defaultdict(list)
        for f in self.files:
            if f["category"] == "code":
                self.code_files_by_dir[posixpath.dirname(f["path"])].append(f["path"])


def label_of(symbol: dict[str, Any]) -> str:
    """The name a question uses: qualified by its enclosing scope when it has one."""
    scope = symbol["scope"].replace("::", ".")
    return f"{scope}.{symbol['name']}" if scope else symbol["name"]


def _askable(symbol: dict[str, Any], config: GenerateConfig) -> bool:
    name = symbol["name"]
    if symbol["kind"] not in ASKABLE_KINDS or len(name) < 2 or name.startswith("__"):
        return False
    return config.include_private or not name.startswith("_")


def _fact(family: str, symbol: dict[str, Any] | None, subject: str, data: dict[str, Any], *, path: str = "",
          line: int = 0, end_line: int = 0, evidence: str = "", needs_review: bool = False) -> Fact:
    if symbol is not None:
        path, line, end_line = symbol["path"], symbol["line"], symbol["end_line"]
        evidence = evidence or symbol["snippet"]
    return Fact(id=stable_id(family, subject, path, line), family=family, subject=subject,
                symbol_id=symbol["id"] if symbol else "", path=path, line=line, end_line=end_line,
                evidence=evidence, data=data, needs_review=needs_review)


_NAME_FIRST = frozenset({"Go", "Python", "Rust", "TypeScript", "TSX", "JavaScript"})  # `name type` / `name: type`


def split_parameters(signature: str, language: str = "Python") -> list[str]:
    """Parameter names from a signature's parameter list (top-level commas only)."""
    inner = signature.strip()
    if not inner.startswith("("):
        return []
    depth, current, params = 0, "", []
    for char in inner[1:]:
        if char in "([{<":
            depth += 1
        elif char in ")]}>":
            if depth == 0:
                break
            depth -= 1
        if char == "," and depth == 0:
            params.append(current)
            current = ""
        else:
            current += char
    params.append(current)
    names = []
    for raw in (p.strip() for p in params):
        if not raw or raw in ("self", "cls", "&self", "&mut self", "mut self", "void", "..."):
            continue
        name = re.split(r"[:=]", raw, maxsplit=1)[0].strip()  # Python, Rust, TS: name before ':' or '='
        words = re.findall(r"[A-Za-z_]\w*", name)
        if len(words) > 1 or "*" in name or "&" in name:
            # Go writes `name type`; C, C++ and Java write `type name`.
            name = (words[0] if language in _NAME_FIRST else words[-1]) if words else ""
        if name.lstrip("*"):
            names.append(name.lstrip("*"))
    return names


def return_annotation(symbol: dict[str, Any]) -> str:
    """An explicit return annotation (Python/Rust `->`), read from the definition's first lines; '' if none."""
    if symbol["language"] not in ("Python", "Rust"):
        return ""
    header = ""
    for line in symbol["snippet"].splitlines()[:8]:
        header += " " + line.strip()
        if line.rstrip().endswith((":", "{")):
            break
    match = _RETURN_ARROW.search(header.strip())
    return " ".join(match.group(1).split()) if match else ""


def _unique(view: IndexView, symbol: dict[str, Any]) -> bool:
    """One definition carries this label (a header prototype of the same function does not count)."""
    return symbol["kind"] != "prototype" and sum(s["kind"] != "prototype" for s in view.by_label[label_of(symbol)]) == 1


def definition_location(view: IndexView, config: GenerateConfig) -> Iterable[Fact]:
    """Where each symbol is defined (one fact listing every place when a label is defined more than once)."""
    seen = set()
    for symbol in view.symbols:
        label = label_of(symbol)
        if not _askable(symbol, config) or label in seen:
            continue
        seen.add(label)
        places = [s for s in view.by_label[label] if s["kind"] not in ("prototype",)]
        if not places:
            continue
        first = places[0]
        locations = [{"path": s["path"], "line": s["line"]} for s in places[: config.max_list_items]]
        yield _fact("definition_location", first, label, {"label": label, "kind": first["kind"],
                                                          "locations": locations})


def kind_signature(view: IndexView, config: GenerateConfig) -> Iterable[Fact]:
    """What kind of thing a symbol is, and its signature."""
    for s in view.symbols:
        if _askable(s, config) and _unique(view, s):
            yield _fact("kind_signature", s, label_of(s), {"label": label_of(s), "name": s["name"], "kind": s["kind"],
                                                            "signature": s["signature"], "path": s["path"]})


def parameters_return(view: IndexView, config: GenerateConfig) -> Iterable[Fact]:
    """A callable's parameters and, when annotated, its return type."""
    for s in view.symbols:
        if s["kind"] in ("function", "method") and _askable(s, config) and _unique(view, s) and s["signature"]:
            params = split_parameters(s["signature"], s["language"])
            yield _fact("parameters_return", s, label_of(s), {"label": label_of(s), "parameters": params,
                                                               "returns": return_annotation(s), "path": s["path"]})


def enclosing_scope(view: IndexView, config: GenerateConfig) -> Iterable[Fact]:
    """Which class, struct or module a member belongs to (when its name is defined once in its file)."""
    # Counted once: scanning its file's symbols for each member was quadratic (55 s on the kernel's headers).
    same_name_here = Counter((s["path"], s["name"]) for s in view.symbols)
    for s in view.symbols:
        if s["scope"] and s["scope_kind"] and _askable(s, config) and same_name_here[(s["path"], s["name"])] == 1:
            yield _fact("enclosing_scope", s, label_of(s), {"label": label_of(s), "name": s["name"], "kind": s["kind"],
                                                             "scope": s["scope"], "scope_kind": s["scope_kind"],
                                                             "path": s["path"]})


def members(view: IndexView, config: GenerateConfig) -> Iterable[Fact]:
    """The members a class-like symbol defines."""
    for s in view.symbols:
        if s["kind"] in TYPE_KINDS and _askable(s, config) and _unique(view, s):
            inside = [m["name"] for m in view.members_of.get((s["path"], s["name"]), [])
                      if s["line"] <= m["line"] <= s["end_line"] and not m["name"].startswith("__")]
            if inside:
                yield _fact("members", s, label_of(s), {"label": label_of(s), "kind": s["kind"], "path": s["path"],
                                                         "members": inside[: config.max_list_items],
                                                         "total": len(inside)})


def _edge_list(edges: list[dict[str, Any]], name_key: str, limit: int) -> list[dict[str, Any]]:
    seen, out = set(), []
    for e in sorted(edges, key=lambda e: (e["path"], e["line"])):
        key = (e[name_key], e["path"])
        if e[name_key] and key not in seen:
            seen.add(key)
            out.append({"name": e[name_key], "path": e["path"], "line": e["line"]})
    return out[:limit]


def callers(view: IndexView, config: GenerateConfig) -> Iterable[Fact]:
    """Which functions call a symbol, with where."""
    for s in view.symbols:
        if s["kind"] in CALLABLE | {"class", "struct"} and _askable(s, config) and _unique(view, s):
            found = _edge_list(view.callers_of.get(s["id"], []), "src_name", config.max_list_items)
            if found:
                yield _fact("callers", s, label_of(s), {"label": label_of(s), "path": s["path"], "callers": found})


def callees(view: IndexView, config: GenerateConfig) -> Iterable[Fact]:
    """Which indexed functions a symbol calls."""
    for s in view.symbols:
        if s["kind"] in CALLABLE and _askable(s, config) and _unique(view, s):
            found = _edge_list(view.callees_of.get(s["id"], []), "dst_name", config.max_list_items)
            if found:
                yield _fact("callees", s, label_of(s), {"label": label_of(s), "path": s["path"], "callees": found})


def first_sentences(text: str, limit: int = 300) -> str:
    """The opening of a docstring: its first paragraph, cut at a sentence end near `limit`."""
    paragraph = " ".join(text.strip().split("\n\n")[0].split())
    if len(paragraph) <= limit:
        return paragraph
    cut = paragraph[:limit]
    end = max(cut.rfind(". "), cut.rfind("? "), cut.rfind("! "))
    return cut[: end + 1] if end > 40 else cut.rstrip() + "…"


def purpose(view: IndexView, config: GenerateConfig) -> Iterable[Fact]:
    """What a symbol does: from its docstring or leading comment; needs review when there is none."""
    for s in view.symbols:
        if s["kind"] in CALLABLE | TYPE_KINDS and _askable(s, config) and _unique(view, s):
            doc = first_sentences(s["doc"]) if s["doc"] else ""
            yield _fact("purpose", s, label_of(s), {"label": label_of(s), "kind": s["kind"], "path": s["path"],
                                                     "line": s["line"], "end_line": s["end_line"], "doc": doc},
                        needs_review=not doc)


def file_symbols(view: IndexView, config: GenerateConfig) -> Iterable[Fact]:
    """Which top-level symbols a file defines."""
    by_file: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in view.symbols:
        if not s["scope"] and _askable(s, config):
            by_file[s["path"]].append(s)
    for path, items in by_file.items():
        listed = [{"name": s["name"], "kind": s["kind"], "line": s["line"]} for s in items[: config.max_list_items]]
        yield _fact("file_symbols", None, path, {"path": path, "symbols": listed, "total": len(items)}, path=path,
                    line=items[0]["line"], end_line=items[-1]["end_line"],
                    evidence="\n".join(f"{s['line']}: {s['kind']} {s['name']}" for s in items[:40]))


def directory_purpose(view: IndexView, config: GenerateConfig) -> Iterable[Fact]:
    """What a folder is for: its README's opening, else its package docstring; else its contents, for review."""
    docs_by_dir: dict[str, dict[str, Any]] = {}
    for doc in sorted(view.docs, key=lambda d: (d["kind"] != "readme", not d["path"].endswith("__init__.py"))):
        if doc["kind"] == "readme" or doc["path"].endswith("__init__.py"):
            docs_by_dir.setdefault(doc["directory"], doc)
    counts = Counter(posixpath.dirname(f["path"]) for f in view.files if f["category"] == "code")
    for directory, count in sorted(counts.items()):
        if not directory:
            continue  # the root is "the project": the README's opening answers other questions
        doc = docs_by_dir.get(directory)
        name = directory
        data = {"directory": name, "doc": first_sentences(doc["text"]) if doc else "", "files": count,
                "source": doc["path"] if doc else ""}
        yield _fact("directory_purpose", None, name, data, path=doc["path"] if doc else directory,
                    evidence=doc["text"] if doc else "", needs_review=doc is None)


def build_test(view: IndexView, config: GenerateConfig) -> Iterable[Fact]:
    """How to build, test, install and run the project: one fact per action."""
    by_action: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for fact in view.build_facts:
        if fact["action"] in ("build", "test", "install", "run", "lint"):
            by_action[fact["action"]].append(fact)
    for action, facts in sorted(by_action.items()):
        # The command named after the action itself (`make test`, `npm test`, `cargo build`) comes first.
        ranked = sorted(facts, key=lambda f: (action not in f["command"].replace("/", " ").split(),
                                              f["path"].count("/"), f["tool"] == "readme", f["path"], f["line"]))
        commands = []
        for f in ranked:
            if f["command"] not in [c["command"] for c in commands]:
                commands.append({"command": f["command"], "path": f["path"], "line": f["line"], "detail": f["detail"]})
        top = commands[0]
        yield _fact("build_test", None, action, {"action": action, "commands": commands[:3]}, path=top["path"],
                    line=top["line"], end_line=top["line"], evidence="\n".join(c["detail"] for c in commands[:3]))


def last_change(view: IndexView, config: GenerateConfig) -> Iterable[Fact]:
    """When a file last changed and why: its newest commit (only when the index holds git history)."""
    for change in view.history:
        if change["rank"] == 0 and change["path"] in view.by_path:
            data = {"path": change["path"], "commit": change["commit"][:12], "date": change["date"][:10],
                    "author": change["author"], "subject": change["subject"]}
            yield _fact("last_change", None, change["path"], data, path=change["path"],
                        evidence=f"{change['commit']} {change['date']} {change['author']}: {change['subject']}")


BUILDERS: dict[str, Callable[[IndexView, GenerateConfig], Iterable[Fact]]] = {
    "definition_location": definition_location, "kind_signature": kind_signature,
    "parameters_return": parameters_return, "enclosing_scope": enclosing_scope, "members": members,
    "callers": callers, "callees": callees, "purpose": purpose, "file_symbols": file_symbols,
    "directory_purpose": directory_purpose, "build_test": build_test, "last_change": last_change,
    absent_symbol.FAMILY: absent_symbol.facts,
}


def build_facts(view: IndexView, config: GenerateConfig) -> list[Fact]:
    """Every fact of the chosen families, capped per family, file and directory (deterministic by seed)."""
    per_file: Counter[str] = Counter()
    per_dir: Counter[str] = Counter()
    chosen: list[Fact] = []
    for family in config.families:
        # Caps keep a spread sample, not the first files alphabetically. The order is each fact's own hash, not a
        # shuffle of the whole list: one symbol added to the code moves no other fact in or out of the sample.
        candidates = sorted(BUILDERS[family](view, config), key=lambda f: stable_fraction(config.seed, f.id))
        kept = 0
        for fact in candidates:
            directory = posixpath.dirname(fact.path)
            if kept >= config.max_facts_per_family:
                break
            if fact.symbol_id and (per_file[fact.path] >= config.max_facts_per_file
                                   or per_dir[directory] >= config.max_facts_per_directory):
                continue
            per_file[fact.path] += 1
            per_dir[directory] += 1
            chosen.append(fact)
            kept += 1
    return sorted(chosen, key=lambda f: (f.family, f.path, f.line, f.subject))
