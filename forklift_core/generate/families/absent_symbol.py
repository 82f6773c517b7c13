"""The abstention family: plausible names the index does not hold, answered "there is no X in this repository".

Fine-tuning a small model on facts it did not know teaches it to answer every "where is X" with a confident
location. Questions about near misses of real names (`load_configs` beside `load_config`) and other projects'
common names, answered with an abstention, teach it that not every name exists; preference pairs whose rejected
answer invents a location make the same point to DPO. The names are checked against every symbol, label, file
and folder of the index, so an abstention row is never about a real name.
"""

from __future__ import annotations

import posixpath
import random
import re
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from forklift_core.generate.split import stable_fraction
from forklift_core.records import Fact, stable_id

if TYPE_CHECKING:  # the index view lives in facts.py, which imports this module's builder
    from forklift_core.config import GenerateConfig
    from forklift_core.generate.facts import IndexView

FAMILY = "absent_symbol"
SHARE_OF_SYMBOLS = 0.15  # absent names per askable symbol: enough to learn abstaining, not to drown the facts
MAX_FACTS = 400

# Names common in other projects, asked about in repositories that do not have them.
COMMON_NAMES = (
    "parse_args", "load_settings", "UserManager", "DatabaseConnection", "handle_request", "render_template",
    "LRUCache", "retry_with_backoff", "validate_email", "HttpClient", "send_email", "authenticate_user",
    "process_payment", "EventBus", "ConfigLoader", "normalize_path", "TaskQueue", "RateLimiter", "serialize_json",
    "create_app", "init_db", "get_logger", "format_timestamp", "FileWatcher", "PluginRegistry", "hash_password",
    "CacheManager", "compute_checksum", "WorkerPool", "parse_headers", "BaseRepository", "schedule_job",
)
# Word swaps that turn a real name into a plausible one that is not there.
_SWAPS = {"load": "read", "read": "load", "save": "write", "write": "save", "get": "fetch", "fetch": "get",
          "create": "make", "make": "create", "parse": "decode", "init": "setup", "setup": "init", "config": "settings",
          "settings": "config", "handler": "callback", "start": "begin", "stop": "halt", "build": "compile",
          "run": "execute", "check": "verify", "find": "lookup", "add": "append", "remove": "delete",
          "delete": "remove", "update": "refresh", "list": "enumerate", "file": "document", "path": "location"}
_SUFFIXES = ("_v2", "_async", "_all", "s", "_impl", "_helper")
_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")

TEMPLATES = (
    "Where is `{label}` defined?",
    "In which file and on which line is `{label}` defined in the source code?",
    "Which file of this repository contains the definition of `{label}`, and at what line?",
    "Point me to the definition of `{label}` in the codebase.",
    "What does `{label}` do in this project?",
    "I need to edit `{label}`. Which file and line should I open?",
)
_ABSTAINS = re.compile(r"\b(?:there is no|there's no|there are no|no (?:symbol|function|class|definition) (?:named|called)|"
                       r"(?:is|are) not defined|isn't defined|does not exist|doesn't exist|not (?:in|part of) this "
                       r"(?:repository|codebase|project)|could not find|couldn't find|cannot find|can't find)\b",
                       re.IGNORECASE)


def _split_words(name: str) -> list[str]:
    return [w.lower() for w in _WORDS.findall(name)]


def _join_like(original: str, words: list[str]) -> str:
    """Words joined in the original's style: snake_case, or CamelCase / camelCase."""
    if "_" in original or original.islower():
        return "_".join(words)
    joined = "".join(w.capitalize() for w in words)
    return joined if original[:1].isupper() else joined[:1].lower() + joined[1:]


def near_misses(name: str, rng: random.Random) -> Iterator[str]:
    """Plausible variants of a real name: one word swapped, a suffix added, two words reordered."""
    words = _split_words(name)
    swappable = [i for i, w in enumerate(words) if w in _SWAPS]
    if swappable:
        i = rng.choice(swappable)
        yield _join_like(name, words[:i] + [_SWAPS[words[i]]] + words[i + 1:])
    suffix = rng.choice(_SUFFIXES)
    yield name + (suffix if "_" in name or name.islower() or suffix == "s" else suffix.replace("_", "").capitalize())
    if len(words) >= 2:
        yield _join_like(name, words[1:] + words[:1])


def known_names(view: "IndexView") -> set[str]:
    """Every name the index could be said to hold, compared case-insensitively."""
    names = {s["name"] for s in view.symbols} | set(view.by_label)
    names |= {posixpath.basename(p) for p in view.paths} | {posixpath.splitext(posixpath.basename(p))[0]
                                                            for p in view.paths}
    names |= {part for p in view.paths for part in p.split("/")}
    return {n.lower() for n in names}


def facts(view: "IndexView", config: "GenerateConfig") -> Iterable[Fact]:
    """Absent names: near misses of the repository's own names first, then other projects' common names."""
    known = known_names(view)
    # Each name's own hash orders them and seeds its near misses: a name added to the code changes no other one.
    askable = sorted({s["name"] for s in view.symbols if len(s["name"]) >= 4 and not s["name"].startswith("_")},
                     key=lambda name: stable_fraction(config.seed, FAMILY, name))
    wanted = min(MAX_FACTS, max(8, int(len(askable) * SHARE_OF_SYMBOLS)))
    chosen: dict[str, str] = {}  # absent name -> what it was made from
    for real in askable:
        if len(chosen) >= wanted * 3 // 4:
            break  # enough: the other names' generators are never made (a kernel has 600,000 names)
        for candidate in near_misses(real, random.Random(f"{config.seed}:{FAMILY}:{real}")):
            if candidate.lower() not in known and candidate not in chosen and candidate.isidentifier():
                chosen[candidate] = real
                break
    for common in COMMON_NAMES:
        if len(chosen) >= wanted:
            break
        if common.lower() not in known:
            chosen[common] = ""
    for name, source in chosen.items():
        yield Fact(id=stable_id(FAMILY, name), family=FAMILY, subject=name, symbol_id="", path="", line=0, end_line=0,
                   evidence=f"No symbol, file or folder named {name} in the index"
                            + (f" (a near miss of {source})." if source else "."),
                   data={"label": name, "near": source})


def render(data: dict[str, Any]) -> tuple[str, str]:
    """The abstention, naming no file (the name is left unquoted: it is not a name of this repository).

    Data made by `invented_locations` renders as the confident wrong answer instead, like every family's negatives.
    """
    if data.get("invented"):
        # Imported here: answers.py registers this module's renderer, so a top-level import would be circular.
        from forklift_core.generate.answers import definition_location

        place = {"path": data["path"], "line": data["line"]}
        return definition_location({"label": data["label"], "locations": [place]})
    near = f" The closest name it has is `{data['near']}`." if data.get("near") else ""
    return f"There is no {data['label']} in this repository.{near}", "not in this repository"


def abstains(answer: str) -> bool:
    """True when an answer says the name is not there and points at no location."""
    return bool(_ABSTAINS.search(answer)) and not re.search(r"\bline\s+\d+|\.\w{1,4}:\d+", answer)


def invented_locations(view: "IndexView", fact: Fact, rng: random.Random) -> Iterator[tuple[str, dict[str, Any]]]:
    """Rejected answers for DPO: the name placed in a real file of the repository, as a confident model would."""
    code_files = sorted(p for files in view.code_files_by_dir.values() for p in files)
    if fact.data.get("near"):
        for real in view.by_name.get(fact.data["near"], [])[:1]:
            yield "invented_near_location", {"invented": True, "label": fact.data["label"], "path": real["path"],
                                             "line": real["line"]}
    if code_files:
        yield "invented_location", {"invented": True, "label": fact.data["label"], "path": rng.choice(code_files),
                                    "line": rng.randint(1, 200)}
