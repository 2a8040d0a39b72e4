"""Content-addressed cache of tool results: (clip key, tool, tool version) -> ToolResult.

One SQLite file (``DIR/tool_results.sqlite``) in WAL mode, so many processes on a host
(Ray actors, batch workers, rollouts of several runs) read and write it at once; a
write is one ``INSERT OR REPLACE`` transaction, so a reader never sees half a result.
Only successful results are stored: a timeout or a crash may not happen next time.
SQLite must not live on a network file system: on a cluster set ``tools.cache_store`` to
"service" and one actor on the head node keeps this file for every node (``store``).

Hits and misses are counted per ``ToolCache`` object (``stats()``).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from audiorouter.contracts import ToolResult
from audiorouter.state_files import move_aside_remedy
from audiorouter.store.sqlite_files import damage_named, open_shared_sqlite

FILE_NAME = "tool_results.sqlite"
ROLE = f"tool cache (tools.cache_dir/{FILE_NAME})"
REMEDY = move_aside_remedy("tools.cache_dir")
SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    clip TEXT NOT NULL, tool TEXT NOT NULL, version TEXT NOT NULL,
    result TEXT NOT NULL, created REAL NOT NULL,
    PRIMARY KEY (clip, tool, version)
)
"""


class ToolCache:
    """Picklable (the connection is reopened in each process); thread-safe."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / FILE_NAME
        self.hits = 0
        self.misses = 0
        self.writes = 0
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connect()  # create the file and table now: errors surface at construction

    def __getstate__(self) -> dict[str, Any]:
        return {"directory": self.directory}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["directory"])

    def _connect(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != os.getpid():
            conn = open_shared_sqlite(self.path, SCHEMA, ROLE, REMEDY, isolation_level=None)
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def get(self, clip: str, tool: str, version: str) -> ToolResult | None:
        with damage_named(self.path, ROLE, REMEDY):
            row = self._connect().execute(
                "SELECT result FROM results WHERE clip=? AND tool=? AND version=?", (clip, tool, version)
            ).fetchone()
        with self._lock:
            if row is None:
                self.misses += 1
            else:
                self.hits += 1
        return ToolResult(**json.loads(row[0])) if row is not None else None

    def put(self, clip: str, result: ToolResult) -> None:
        if not result.ok:
            return
        payload = json.dumps(asdict(result), allow_nan=False)
        self._connect().execute(
            "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?)",
            (clip, result.tool, result.version, payload, time.time()),
        )
        with self._lock:
            self.writes += 1

    def get_many(self, keys: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], ToolResult]:
        """The stored result of each (clip, tool, version) key that has one."""
        return {key: result for key in dict.fromkeys(keys) if (result := self.get(*key)) is not None}

    def put_many(self, entries: list[tuple[tuple[str, str, str], ToolResult]]) -> None:
        """Store results under their (clip, tool, version) keys in one transaction (ok ones only)."""
        self._insert(entries, "INSERT OR REPLACE")

    def put_missing(self, entries: list[tuple[tuple[str, str, str], ToolResult]]) -> int:
        """Store the (ok) results whose key is not stored yet, in one transaction; returns
        how many were added (for imported shards: a result computed here stays as it is)."""
        return self._insert(entries, "INSERT OR IGNORE")

    def _insert(self, entries: list[tuple[tuple[str, str, str], ToolResult]], verb: str) -> int:
        rows = [(key[0], result.tool, result.version, json.dumps(asdict(result), allow_nan=False), time.time())
                for key, result in entries if result.ok]
        conn = self._connect()
        with damage_named(self.path, ROLE, REMEDY), conn:  # one transaction: isolation_level=None needs it spelled out
            conn.execute("BEGIN")
            before = conn.total_changes
            conn.executemany(f"{verb} INTO results VALUES (?, ?, ?, ?, ?)", rows)
            added = conn.total_changes - before
        with self._lock:
            self.writes += added
        return added

    def rows(self) -> list[tuple[tuple[str, str, str], ToolResult]]:
        """Every stored result under its (clip, tool, version) key (for export: ``tool_cache_shards``)."""
        with damage_named(self.path, ROLE, REMEDY):
            found = self._connect().execute("SELECT clip, tool, version, result FROM results").fetchall()
        return [((clip, tool, version), ToolResult(**json.loads(result))) for clip, tool, version, result in found]

    def stats(self) -> dict[str, int]:
        return {"hits": self.hits, "misses": self.misses, "writes": self.writes}

    def close(self) -> None:
        """Close this thread's connection (others close with their threads)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def count(self) -> int:
        """Results stored (by every process)."""
        return int(self._connect().execute("SELECT COUNT(*) FROM results").fetchone()[0])

    def __len__(self) -> int:
        return self.count()
