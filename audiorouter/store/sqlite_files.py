"""Opening a SQLite file that many processes on one host share (tool cache, outcome memo).

Both stores use WAL so readers never wait for a writer. Switching a fresh file into WAL
is the one step SQLite's busy timeout does not cover: when several processes open the
same new file at once (Ray Data starting a pool of workers), the losers of the
journal-mode race get "database is locked" at once, whatever the timeout. So the
set-up (journal mode, schema) runs under an exclusive ``flock`` on a sibling lock
file: one process at a time, and after the first the file is already WAL.
WAL and ``flock`` both need a local file system: never put these files on NFS.
"""

from __future__ import annotations

import fcntl
import sqlite3
from pathlib import Path

BUSY_TIMEOUT_S = 60.0


def open_shared_sqlite(path: str | Path, schema: str, **connect_kwargs) -> sqlite3.Connection:
    """A connection to ``path`` in WAL mode with ``schema`` applied; safe to call from
    many processes at once. ``connect_kwargs`` go to ``sqlite3.connect``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".setup-lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, errors included
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, **connect_kwargs)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(schema)
        conn.commit()
    return conn
