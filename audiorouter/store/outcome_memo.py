"""The outcome memo on disk: ``(reasoner_id, item_id, evidence fingerprint)`` -> outcome.

One SQLite file (WAL journal, so many processes on one machine read while one writes)
holding each outcome as JSON. ``reasoner.memo.MemoisedReasoner`` puts it in front of a
back-end; error outcomes are never stored there (a failure may be transient). SQLite's
WAL journal does not work on a network file system: on a cluster set
``reasoner.memo_store`` to "service" and one actor on the head node keeps this file for
every node (``store.service``).
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict
from pathlib import Path

from audiorouter.contracts import ReasonerOutcome
from audiorouter.state_files import move_aside_remedy
from audiorouter.store.sqlite_files import damage_named, open_shared_sqlite

MemoKey = tuple[str, str, str]  # (reasoner_id, item_id, evidence fingerprint)
ROLE = "outcome memo (reasoner.memo_path)"
REMEDY = move_aside_remedy("reasoner.memo_path")

SCHEMA = """
CREATE TABLE IF NOT EXISTS outcomes (
    reasoner_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    evidence TEXT NOT NULL,
    outcome TEXT NOT NULL,
    PRIMARY KEY (reasoner_id, item_id, evidence)
)
"""


class OutcomeMemo:
    """Outcomes on disk, shared by every process that opens the same file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()  # one connection, used from Serve's and Ray's threads
        self._db = open_shared_sqlite(self.path, SCHEMA, ROLE, REMEDY, check_same_thread=False)

    def get_many(self, keys: list[MemoKey]) -> dict[MemoKey, ReasonerOutcome]:
        found: dict[MemoKey, ReasonerOutcome] = {}
        with self._lock, damage_named(self.path, ROLE, REMEDY):
            for key in dict.fromkeys(keys):
                row = self._db.execute(
                    "SELECT outcome FROM outcomes WHERE reasoner_id=? AND item_id=? AND evidence=?", key
                ).fetchone()
                if row is not None:
                    found[key] = ReasonerOutcome(**json.loads(row[0]))
        return found

    def put_many(self, entries: list[tuple[MemoKey, ReasonerOutcome]]) -> None:
        rows = [(*key, json.dumps(asdict(outcome))) for key, outcome in entries]
        with self._lock, damage_named(self.path, ROLE, REMEDY):
            self._db.executemany("INSERT OR REPLACE INTO outcomes VALUES (?, ?, ?, ?)", rows)
            self._db.commit()

    def put_missing(self, entries: list[tuple[MemoKey, ReasonerOutcome]]) -> int:
        """Store the entries whose key is not stored yet; returns how many were added."""
        rows = [(*key, json.dumps(asdict(outcome))) for key, outcome in entries]
        with self._lock, damage_named(self.path, ROLE, REMEDY):
            before = self._db.total_changes
            self._db.executemany("INSERT OR IGNORE INTO outcomes VALUES (?, ?, ?, ?)", rows)
            self._db.commit()
            return self._db.total_changes - before

    def rows(self) -> list[tuple[MemoKey, ReasonerOutcome]]:
        """Every stored entry (for export: ``memo_shards``)."""
        with self._lock, damage_named(self.path, ROLE, REMEDY):
            found = self._db.execute("SELECT reasoner_id, item_id, evidence, outcome FROM outcomes").fetchall()
        return [((r, i, e), ReasonerOutcome(**json.loads(o))) for r, i, e, o in found]

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM outcomes").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
