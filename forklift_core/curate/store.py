"""The curation store: SQLite (WAL) holding facts, pairs with versions, an append-only edit log and metadata."""

from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Sequence

from forklift_core.errors import BadInputError, NotFoundError
from forklift_core.generate.secrets import SecretHit
from forklift_core.records import Fact, PreferencePair, QAPair

SCHEMA = """
CREATE TABLE IF NOT EXISTS facts (
    id TEXT PRIMARY KEY, family TEXT NOT NULL, subject TEXT NOT NULL, symbol_id TEXT NOT NULL, path TEXT NOT NULL,
    line INTEGER NOT NULL, end_line INTEGER NOT NULL, evidence TEXT NOT NULL, data TEXT NOT NULL,
    needs_review INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS pairs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('sft', 'dpo')),
    family TEXT NOT NULL,
    fact_id TEXT NOT NULL REFERENCES facts(id),
    template_id TEXT NOT NULL,
    split TEXT NOT NULL CHECK (split IN ('train', 'validation', 'test')),
    test_kind TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL,          -- the SFT question, or the DPO prompt
    answer TEXT NOT NULL,            -- the SFT answer, or the DPO chosen answer
    concise TEXT NOT NULL DEFAULT '',
    rejected TEXT NOT NULL DEFAULT '',
    negative_kind TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'accepted', 'rejected', 'flagged', 'needs_review')),
    flags TEXT NOT NULL DEFAULT '',
    comment TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1,  -- 1 until a person edits it; regeneration only replaces version 1
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT 'forklift'
);
CREATE INDEX IF NOT EXISTS pairs_family ON pairs(family);
CREATE INDEX IF NOT EXISTS pairs_status ON pairs(status);
CREATE INDEX IF NOT EXISTS pairs_split ON pairs(split);
CREATE INDEX IF NOT EXISTS pairs_fact ON pairs(fact_id);
CREATE INDEX IF NOT EXISTS facts_path ON facts(path);
-- The Curate table's order: a page is read from this index, never by sorting every pair.
CREATE INDEX IF NOT EXISTS pairs_order ON pairs(family, fact_id, id);
-- The tallies per family and status (and the usual filters) read this index alone, not the table's rows.
CREATE INDEX IF NOT EXISTS pairs_tally ON pairs(family, status, split, kind);
CREATE TABLE IF NOT EXISTS edit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT, pair_id TEXT NOT NULL, user TEXT NOT NULL, at TEXT NOT NULL,
    before TEXT NOT NULL, after TEXT NOT NULL, base_version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS secret_hits (
    kind TEXT NOT NULL, path TEXT NOT NULL, line INTEGER NOT NULL, fingerprint TEXT NOT NULL,
    PRIMARY KEY (kind, path, line, fingerprint)
);
CREATE TABLE IF NOT EXISTS secret_reviews (  -- a person looked at a redacted finding: the data may be published
    fingerprint TEXT NOT NULL, path TEXT NOT NULL, line INTEGER NOT NULL, kind TEXT NOT NULL,
    reviewed_by TEXT NOT NULL, reviewed_at TEXT NOT NULL, PRIMARY KEY (kind, path, line, fingerprint)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS judgments (   -- blind A/B verdicts from the Compare tab
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, user TEXT NOT NULL, run_id TEXT NOT NULL,
    question TEXT NOT NULL, answer_a TEXT NOT NULL, answer_b TEXT NOT NULL, system_a TEXT NOT NULL,
    system_b TEXT NOT NULL, verdict TEXT NOT NULL CHECK (verdict IN ('a', 'b', 'both_wrong')),
    pair_id TEXT NOT NULL DEFAULT ''
);
"""

_FACT_FIELDS = ("id", "family", "subject", "symbol_id", "path", "line", "end_line", "evidence", "data", "needs_review")
_PAIR_FIELDS = ("id", "kind", "family", "fact_id", "template_id", "split", "test_kind", "question", "answer",
                "concise", "rejected", "negative_kind", "status", "flags")


def now_utc() -> str:
    """The current UTC time as ISO 8601 with milliseconds (every timestamp in the store)."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def store_line(stored: dict[str, int]) -> str:
    """What a generation changed in the store, in one line (the CLI and the Generate tab)."""
    return (f"store: {stored['written']} of {stored['stored']} pairs written ({stored['stored'] - stored['written']} "
            f"unchanged), {stored['dropped_stale']} dropped, {stored['kept_edited']} edited kept, "
            f"{stored['flagged_edited']} of them flagged")


def pair_row(pair: QAPair | PreferencePair) -> dict[str, Any]:
    """A store row for a generated pair (its status comes from its review flags)."""
    status = "flagged" if pair.flags else "needs_review" if pair.needs_review else "pending"
    if isinstance(pair, QAPair):
        return {"id": pair.id, "kind": "sft", "family": pair.family, "fact_id": pair.fact_id,
                "template_id": pair.template_id, "split": pair.split, "test_kind": pair.test_kind,
                "question": pair.question, "answer": pair.answer, "concise": pair.concise, "rejected": "",
                "negative_kind": "", "status": status, "flags": pair.flags}
    return {"id": pair.id, "kind": "dpo", "family": pair.family, "fact_id": pair.fact_id,
            "template_id": pair.template_id, "split": pair.split, "test_kind": pair.test_kind,
            "question": pair.prompt, "answer": pair.chosen, "concise": "", "rejected": pair.rejected,
            "negative_kind": pair.negative_kind, "status": status, "flags": pair.flags}


# Text search of question, answer and rejected answer by substring, through trigrams: a search reads the few rows
# holding the string instead of every pair (the triggers keep it in step with every write).
TEXT_INDEX = """
CREATE VIRTUAL TABLE IF NOT EXISTS pairs_text USING fts5(question, answer, rejected, content='pairs',
                                                         content_rowid='rowid', tokenize='trigram');
CREATE TRIGGER IF NOT EXISTS pairs_text_insert AFTER INSERT ON pairs BEGIN
    INSERT INTO pairs_text(rowid, question, answer, rejected) VALUES (new.rowid, new.question, new.answer, new.rejected);
END;
CREATE TRIGGER IF NOT EXISTS pairs_text_delete AFTER DELETE ON pairs BEGIN
    INSERT INTO pairs_text(pairs_text, rowid, question, answer, rejected)
    VALUES ('delete', old.rowid, old.question, old.answer, old.rejected);
END;
CREATE TRIGGER IF NOT EXISTS pairs_text_update AFTER UPDATE OF question, answer, rejected ON pairs BEGIN
    INSERT INTO pairs_text(pairs_text, rowid, question, answer, rejected)
    VALUES ('delete', old.rowid, old.question, old.answer, old.rejected);
    INSERT INTO pairs_text(rowid, question, answer, rejected) VALUES (new.rowid, new.question, new.answer, new.rejected);
END;
"""
FACT_CHANGED = "its fact changed when the code was ingested again: check this edited answer"
FACT_GONE = "its fact is no longer in the index (the code it was about changed or went): check this edited answer"


class CurationStore:
    """One project's curation database; every write is a short transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        db = self._open()
        try:
            db.executescript(SCHEMA)
            has_text_index = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'pairs_text'").fetchone()
            db.executescript(TEXT_INDEX)
            if not has_text_index:  # a store made before the text index: fill it once
                db.execute("INSERT INTO pairs_text(pairs_text) VALUES ('rebuild')")
        finally:
            db.close()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        return db

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[sqlite3.Connection]:
        db = self._open()
        try:
            db.execute(begin)
            yield db
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    def connect(self) -> Any:
        """A write transaction (taken at once, so writers queue instead of failing): committed or rolled back."""
        return self._transaction("BEGIN IMMEDIATE")

    def read(self) -> Any:
        """A read-only snapshot (WAL readers never wait for writers)."""
        return self._transaction("BEGIN")

    def replace_generated(self, facts: Sequence[Fact], pairs: Sequence[QAPair | PreferencePair],
                          hits: Sequence[SecretHit], meta: dict[str, Any]) -> dict[str, int]:
        """Store a generation: new pairs are added, untouched ones refreshed or dropped; edited pairs never change.

        An edited pair whose fact changed (the code moved on since the edit) or left the index keeps its text and is
        flagged for review, so it is not trained on until a person looked at it again.
        """
        now = now_utc()
        rows = [pair_row(p) for p in pairs]
        incoming = {r["id"] for r in rows}
        fact_rows = [(f.id, f.family, f.subject, f.symbol_id, f.path, f.line, f.end_line, f.evidence,
                      json.dumps(f.data, sort_keys=True), int(f.needs_review)) for f in facts]
        evidence_at, data_at = _FACT_FIELDS.index("evidence"), _FACT_FIELDS.index("data")
        new_facts = {row[0]: (row[evidence_at], row[data_at]) for row in fact_rows}  # each fact's data dumped once
        with self.connect() as db:
            outdated = [(FACT_CHANGED if fact_id in new_facts else FACT_GONE, pair_id) for pair_id, fact_id, evidence, data
                        in db.execute("SELECT p.id, p.fact_id, f.evidence, f.data FROM pairs p JOIN facts f "
                                      "ON f.id = p.fact_id WHERE p.version > 1")
                        if new_facts.get(fact_id) != (evidence, data)]
            db.executemany("UPDATE pairs SET status = 'flagged', flags = ? WHERE id = ?", outdated)
            # Only what differs is written: a regeneration after a small change touches a few rows, not the
            # whole store (and its text index).
            stored_facts = {row[0]: tuple(row) for row in db.execute(f"SELECT {', '.join(_FACT_FIELDS)} FROM facts")}
            referenced = {r["fact_id"] for r in rows}  # a fact no pair asks about is not kept
            changed_facts = [row for row in fact_rows if row[0] in referenced and stored_facts.get(row[0]) != row]
            db.executemany(
                f"INSERT INTO facts ({', '.join(_FACT_FIELDS)}) VALUES ({', '.join('?' for _ in _FACT_FIELDS)}) "
                "ON CONFLICT(id) DO UPDATE SET " + ", ".join(f"{c}=excluded.{c}" for c in _FACT_FIELDS[1:]),
                changed_facts)
            touched = {r["id"] for r in db.execute("SELECT id FROM pairs WHERE version > 1")}
            generated = {row[0]: tuple(row) for row in
                         db.execute(f"SELECT {', '.join(_PAIR_FIELDS)} FROM pairs WHERE version = 1")}
            stale = [(pid,) for pid in generated if pid not in incoming]
            db.executemany("DELETE FROM pairs WHERE id = ?", stale)
            columns = ", ".join(_PAIR_FIELDS)
            marks = ", ".join("?" for _ in _PAIR_FIELDS)
            refresh = ", ".join(f"{c}=excluded.{c}" for c in _PAIR_FIELDS if c != "id")
            written = [tuple(r[c] for c in _PAIR_FIELDS) for r in rows]
            written = [row for row in written if row[0] not in touched and generated.get(row[0]) != row]
            db.executemany(
                f"INSERT INTO pairs ({columns}, created_at, updated_at) VALUES ({marks}, ?, ?) "
                f"ON CONFLICT(id) DO UPDATE SET {refresh}, updated_at=excluded.updated_at WHERE pairs.version = 1",
                [row + (now, now) for row in written])
            db.execute("DELETE FROM facts WHERE id NOT IN (SELECT fact_id FROM pairs)")
            db.execute("DELETE FROM secret_hits")
            db.executemany("INSERT OR IGNORE INTO secret_hits VALUES (?,?,?,?)",
                           [(h.kind, h.path, h.line, h.fingerprint) for h in hits])
            db.executemany("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                           [(k, json.dumps(v, sort_keys=True, default=str)) for k, v in meta.items()])
        return {"stored": len(rows), "written": len(written), "facts_written": len(changed_facts),
                "kept_edited": len(touched), "dropped_stale": len(stale), "flagged_edited": len(outdated)}

    def pairs(self, kind: str | None = None, statuses: Sequence[str] | None = None,
              split: str | None = None) -> list[dict[str, Any]]:
        """Pairs filtered by kind, status and split, in a stable order."""
        clauses, params = [], []
        if kind:
            clauses.append("kind = ?")
            params.append(kind)
        if statuses:
            clauses.append(f"status IN ({', '.join('?' for _ in statuses)})")
            params.extend(statuses)
        if split:
            clauses.append("split = ?")
            params.append(split)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self.read() as db:
            return [dict(r) for r in db.execute(f"SELECT * FROM pairs {where} ORDER BY family, fact_id, id", params)]

    def fact(self, fact_id: str) -> dict[str, Any]:
        """One fact with its evidence."""
        with self.read() as db:
            row = db.execute("SELECT * FROM facts WHERE id = ?", (fact_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no fact {fact_id!r}")
        return {**dict(row), "data": json.loads(row["data"])}

    def facts(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        """The facts with these ids, their data decoded."""
        wanted = set(ids)
        with self.read() as db:
            rows = [dict(r) for r in db.execute("SELECT * FROM facts ORDER BY id") if r["id"] in wanted]
        return [{**row, "data": json.loads(row["data"])} for row in rows]

    def counts(self) -> dict[str, dict[str, int]]:
        """Pair counts by kind, split, family, status and negative kind."""
        out: dict[str, dict[str, int]] = {}
        with self.read() as db:
            for column in ("kind", "split", "family", "status", "negative_kind", "test_kind"):
                rows = db.execute(f"SELECT {column}, COUNT(*) FROM pairs GROUP BY {column} ORDER BY {column}")
                out[column] = {value: count for value, count in rows if value != ""}
        return out

    def secret_hits(self) -> list[dict[str, Any]]:
        """Redacted secrets, for review (kind, path, line, fingerprint)."""
        with self.read() as db:
            return [dict(r) for r in db.execute("SELECT * FROM secret_hits ORDER BY path, line")]

    def unreviewed_secret_hits(self) -> list[dict[str, Any]]:
        """Findings no person has reviewed yet: nothing is published while there are any."""
        with self.read() as db:
            return [dict(r) for r in db.execute(
                "SELECT h.* FROM secret_hits h LEFT JOIN secret_reviews r USING (kind, path, line, fingerprint) "
                "WHERE r.reviewed_by IS NULL ORDER BY h.path, h.line")]

    def review_secret_hits(self, user: str) -> int:
        """Mark every current finding reviewed by `user` (its value stays redacted); returns how many were new."""
        with self.connect() as db:
            before = db.total_changes
            db.execute("INSERT OR IGNORE INTO secret_reviews SELECT fingerprint, path, line, kind, ?, ? "
                       "FROM secret_hits", (user, now_utc()))
            return db.total_changes - before

    def restore(self, facts: Sequence[dict[str, Any]], pairs: Sequence[dict[str, Any]], meta: dict[str, Any]) -> int:
        """Load pairs with their facts and review state as another store exported them (a Hub pull).

        Only into an empty store: merging two histories of the same pairs would have to drop someone's edits.
        """
        fact_columns = ("id", "family", "subject", "symbol_id", "path", "line", "end_line", "evidence", "data",
                        "needs_review")
        pair_columns = tuple(_PAIR_FIELDS) + ("comment", "version", "created_at", "updated_at", "updated_by")
        with self.connect() as db:
            if db.execute("SELECT COUNT(*) FROM pairs").fetchone()[0]:
                raise BadInputError("this project already has pairs; pull into a new project")
            db.executemany(f"INSERT INTO facts ({', '.join(fact_columns)}) VALUES ({', '.join('?' * len(fact_columns))})",
                           [tuple(json.dumps(f[c], sort_keys=True) if c == "data" else f[c] for c in fact_columns)
                            for f in facts])
            db.executemany(f"INSERT INTO pairs ({', '.join(pair_columns)}) VALUES ({', '.join('?' * len(pair_columns))})",
                           [tuple(p[c] for c in pair_columns) for p in pairs])
            db.executemany("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                           [(k, json.dumps(v, sort_keys=True, default=str)) for k, v in meta.items()])
        return len(pairs)

    def meta(self) -> dict[str, Any]:
        """Generation metadata (settings, versions, source)."""
        with self.read() as db:
            return {k: json.loads(v) for k, v in db.execute("SELECT key, value FROM meta")}

