"""Reviewing pairs: filtered pages, edits with optimistic versions, an append-only log, undo, bulk and replay."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from forklift_core.curate.store import CurationStore, now_utc
from forklift_core.errors import BadInputError, ForkliftError, NotFoundError

STATUSES = ("pending", "accepted", "rejected", "flagged", "needs_review")
EDITABLE = ("question", "answer", "rejected", "status", "comment", "split")
REVIEWED = ("accepted", "rejected", "flagged")


class ConflictError(ForkliftError):
    """A save against a stale version: someone else changed the pair first (nothing was overwritten)."""

    def __init__(self, message: str, current: dict[str, Any], last_edit: dict[str, Any] | None) -> None:
        super().__init__(message)
        self.current = current
        self.last_edit = last_edit


@dataclass(frozen=True)
class PairFilter:
    """What the reviewer is looking at; every field is optional."""

    kind: str = ""  # sft | dpo
    family: str = ""
    status: str = ""
    split: str = ""
    path: str = ""  # a file, or a folder prefix, of the pair's fact
    negative_kind: str = ""
    text: str = ""  # case-insensitive substring of question, answer or rejected

    def where(self) -> tuple[str, list[Any]]:
        """SQL WHERE clause over `source()` (pairs p, joined with facts f when the path is filtered) and its parameters."""
        clauses, params = [], []
        for column in ("kind", "family", "status", "split", "negative_kind"):
            value = getattr(self, column)
            if value:
                clauses.append(f"p.{column} = ?")
                params.append(value)
        if self.path:
            # A folder is the range of paths between "folder/" and "folder0" ('0' follows '/'): an index range,
            # where a LIKE pattern would read every fact.
            folder = self.path.rstrip("/")
            clauses.append("(f.path = ? OR (f.path >= ? AND f.path < ?))")
            params += [self.path, folder + "/", folder + "0"]
        if self.text:
            if len(self.text) >= 3:  # the trigram index finds the candidate rows; LIKE below keeps its exact meaning
                clauses.append("p.rowid IN (SELECT rowid FROM pairs_text WHERE pairs_text MATCH ?)")
                params.append('"' + self.text.replace('"', '""') + '"')
            clauses.append("(p.question LIKE ? OR p.answer LIKE ? OR p.rejected LIKE ?)")
            needle = f"%{self.text}%"
            params += [needle, needle, needle]
        return ("WHERE " + " AND ".join(clauses)) if clauses else "", params

    def source(self) -> str:
        """The FROM clause: the facts are joined only when the filter reads a fact's path."""
        return "pairs p JOIN facts f ON f.id = p.fact_id" if self.path else "pairs p"


def page(store: CurationStore, where: PairFilter, offset: int = 0, limit: int = 50) -> tuple[list[dict[str, Any]], int]:
    """One page of pairs matching the filter, in a stable order, and how many match in all."""
    clause, params = where.where()
    with store.read() as db:
        total = db.execute(f"SELECT COUNT(*) FROM {where.source()} {clause}", params).fetchone()[0]
        rows = db.execute(f"SELECT p.*, (SELECT path FROM facts WHERE id = p.fact_id) AS fact_path "
                          f"FROM {where.source()} {clause} ORDER BY p.family, p.fact_id, p.id LIMIT ? OFFSET ?",
                          [*params, limit, offset])
        return [dict(r) for r in rows], total


def position(store: CurationStore, where: PairFilter, pair_id: str) -> int:
    """The index of a pair within the filter's order (-1 when it no longer matches)."""
    clause, params = where.where()
    with store.read() as db:
        row = db.execute(f"SELECT p.family, p.fact_id FROM {where.source()} {clause} {'AND' if clause else 'WHERE'} "
                         "p.id = ?", [*params, pair_id]).fetchone()
        if row is None:
            return -1
        before = f"{'AND' if clause else 'WHERE'} (p.family, p.fact_id, p.id) < (?, ?, ?)"
        return db.execute(f"SELECT COUNT(*) FROM {where.source()} {clause} {before}",
                          [*params, row[0], row[1], pair_id]).fetchone()[0]


def summary_counts(store: CurationStore, where: PairFilter | None = None) -> dict[str, Any]:
    """Counts per family and status under a filter, and review progress."""
    where = where or PairFilter()
    clause, params = where.where()
    by_family: dict[str, int] = {}
    by_status: dict[str, int] = {}
    with store.read() as db:  # one pass for both tallies
        for family, status, count in db.execute(f"SELECT p.family, p.status, COUNT(*) FROM {where.source()} {clause} "
                                                "GROUP BY p.family, p.status", params):
            by_family[family] = by_family.get(family, 0) + count
            by_status[status] = by_status.get(status, 0) + count
    by_family, by_status = dict(sorted(by_family.items())), dict(sorted(by_status.items()))
    total = sum(by_status.values())
    reviewed = sum(by_status.get(s, 0) for s in REVIEWED)
    return {"by_family": by_family, "by_status": by_status, "total": total, "reviewed": reviewed}


def get_pair(store: CurationStore, pair_id: str) -> dict[str, Any]:
    """One pair by id."""
    with store.read() as db:
        row = db.execute("SELECT * FROM pairs WHERE id = ?", (pair_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no pair {pair_id!r}")
    return dict(row)


def _last_edit(db: sqlite3.Connection, pair_id: str) -> dict[str, Any] | None:
    row = db.execute("SELECT * FROM edit_log WHERE pair_id = ? ORDER BY id DESC LIMIT 1", (pair_id,)).fetchone()
    return dict(row) if row else None


def _check(changes: dict[str, Any]) -> None:
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise BadInputError(f"cannot edit {', '.join(unknown)}")
    if "status" in changes and changes["status"] not in STATUSES:
        raise BadInputError(f"status must be one of {', '.join(STATUSES)}")
    if "split" in changes and changes["split"] not in ("train", "validation", "test"):
        raise BadInputError("split must be train, validation or test")


def _apply(db: sqlite3.Connection, pair_id: str, changes: dict[str, Any], base_version: int, user: str,
           action: str) -> dict[str, Any]:
    """One optimistic update plus its log entry, inside the caller's transaction."""
    row = db.execute("SELECT * FROM pairs WHERE id = ?", (pair_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no pair {pair_id!r}")
    current = dict(row)
    if current["version"] != base_version:
        last = _last_edit(db, pair_id)
        who = f" by {last['user']} at {last['at']}" if last else ""
        raise ConflictError(f"this pair was changed{who} (version {current['version']}, you edited version "
                            f"{base_version}); reload it to see their edit — nothing was overwritten", current, last)
    before = {k: current[k] for k in changes}
    if before == changes:
        return current
    assignments = ", ".join(f"{k} = ?" for k in changes)
    now = now_utc()
    db.execute(f"UPDATE pairs SET {assignments}, version = version + 1, updated_at = ?, updated_by = ? "
               "WHERE id = ? AND version = ?", [*changes.values(), now, user, pair_id, base_version])
    db.execute("INSERT INTO edit_log (pair_id, user, at, before, after, base_version) VALUES (?, ?, ?, ?, ?, ?)",
               (pair_id, user, now, json.dumps(before), json.dumps({**changes, "_action": action}), base_version))
    return {**current, **changes, "version": base_version + 1, "updated_at": now, "updated_by": user}


def edit_pair(store: CurationStore, pair_id: str, changes: dict[str, Any], base_version: int, user: str,
              action: str = "edit") -> dict[str, Any]:
    """Change fields of one pair if it is still at base_version; the edit is logged before it is visible."""
    _check(changes)
    with store.connect() as db:
        return _apply(db, pair_id, changes, base_version, user, action)


def swap_chosen_rejected(store: CurationStore, pair_id: str, base_version: int, user: str) -> dict[str, Any]:
    """Swap a preference pair's chosen and rejected answers."""
    pair = get_pair(store, pair_id)
    if pair["kind"] != "dpo":
        raise BadInputError("only preference pairs have a rejected answer to swap")
    return edit_pair(store, pair_id, {"answer": pair["rejected"], "rejected": pair["answer"]}, base_version, user,
                     "swap")


def bulk_edit(store: CurationStore, where: PairFilter, changes: dict[str, Any], user: str) -> int:
    """Apply one change to every pair under the filter (each logged); returns how many changed."""
    _check(changes)
    clause, params = where.where()
    with store.connect() as db:
        rows = db.execute(f"SELECT p.id, p.version FROM {where.source()} {clause}",
                          params).fetchall()
        changed = 0
        for pair_id, version in rows:
            before = _apply(db, pair_id, changes, version, user, "bulk")
            changed += before["version"] != version
        return changed


def undo_last(store: CurationStore, user: str) -> dict[str, Any]:
    """Revert the user's most recent edit that has not been undone, if nobody changed the pair since."""
    with store.connect() as db:
        entries = db.execute("SELECT * FROM edit_log WHERE user = ? ORDER BY id DESC", (user,)).fetchall()
        undone = {json.loads(e["after"]).get("_undoes") for e in entries}
        target = next((dict(e) for e in entries if e["id"] not in undone
                       and json.loads(e["after"]).get("_action") != "undo"), None)
        if target is None:
            raise NotFoundError("nothing to undo")
        row = db.execute("SELECT * FROM pairs WHERE id = ?", (target["pair_id"],)).fetchone()
        later = db.execute("SELECT * FROM edit_log WHERE pair_id = ? AND id > ? ORDER BY id",
                           (target["pair_id"], target["id"])).fetchall()
        # Only this user's own edits that were undone since (and those undos) may stand between.
        only_own_undone = all(e["user"] == user and (e["id"] in undone or json.loads(e["after"]).get("_action") == "undo")
                              for e in later)
        if row is None or not only_own_undone:
            raise ConflictError("the pair changed after your edit; undo refused so nothing is overwritten",
                                dict(row) if row else {}, _last_edit(db, target["pair_id"]))
        expected = row["version"]
        before = json.loads(target["before"])
        restored = _apply(db, target["pair_id"], before, expected, user, "undo")
        db.execute("UPDATE edit_log SET after = json_set(after, '$._undoes', ?) WHERE id = "
                   "(SELECT MAX(id) FROM edit_log WHERE pair_id = ?)", (target["id"], target["pair_id"]))
        return restored


def edit_history(store: CurationStore, pair_id: str) -> list[dict[str, Any]]:
    """Every logged edit of a pair, oldest first."""
    with store.read() as db:
        return [dict(r) for r in db.execute("SELECT * FROM edit_log WHERE pair_id = ? ORDER BY id", (pair_id,))]


def replay_log(store: CurationStore) -> int:
    """Rebuild every edited pair's fields and version from the log alone (after a crash or a bad restore)."""
    with store.connect() as db:
        entries = db.execute("SELECT * FROM edit_log ORDER BY id").fetchall()
        state: dict[str, dict[str, Any]] = {}
        for entry in entries:
            after = {k: v for k, v in json.loads(entry["after"]).items() if not k.startswith("_")}
            pair = state.setdefault(entry["pair_id"], {})
            pair.update(after)
            pair["version"] = entry["base_version"] + 1
            pair["updated_by"], pair["updated_at"] = entry["user"], entry["at"]
        for pair_id, fields in state.items():
            assignments = ", ".join(f"{k} = ?" for k in fields)
            db.execute(f"UPDATE pairs SET {assignments} WHERE id = ?", [*fields.values(), pair_id])
        return len(state)
