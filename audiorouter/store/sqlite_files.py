"""Opening a SQLite file that many processes on one host share (tool cache, outcome memo).

Both stores use WAL so readers never wait for a writer. Switching a fresh file into WAL
is the one step SQLite's busy timeout does not cover: when several processes open the
same new file at once (Ray Data starting a pool of workers), the losers of the
journal-mode race get "database is locked" at once, whatever the timeout. So the
set-up (journal mode, schema) runs under an exclusive ``flock`` on a sibling lock
file: one process at a time, and after the first the file is already WAL.
WAL and ``flock`` both need a local file system: never put these files on NFS.

A damaged file is a ``StateFileError`` naming it and what to do (``state_files``): its
header is checked before it is opened, and SQLite's "malformed"/"not a database"
errors, at open or in any query run under ``damage_named``, become that error.
"""

from __future__ import annotations

import fcntl
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from audiorouter.state_files import StateFileError, check_sqlite_file

BUSY_TIMEOUT_S = 60.0


def open_shared_sqlite(path: str | Path, schema: str, role: str, remedy: str, **connect_kwargs) -> sqlite3.Connection:
    """A connection to ``path`` in WAL mode with ``schema`` applied; safe to call from
    many processes at once. ``role`` and ``remedy`` name the file in the error a damaged
    one raises. ``connect_kwargs`` go to ``sqlite3.connect``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".setup-lock"), "a") as lock, damage_named(path, role, remedy):
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, errors included
        # under the lock: another process's set-up writes a new file's header before its pages
        check_sqlite_file(path, role, remedy)
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, **connect_kwargs)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(schema)
        conn.commit()
    return conn


@contextmanager
def damage_named(path: str | Path, role: str, remedy: str) -> Iterator[None]:
    """SQLite's errors for a damaged file, raised inside, as a StateFileError naming it.
    OperationalError (locked, busy, a full disk) is not damage and passes unchanged."""
    try:
        yield
    except sqlite3.OperationalError:
        raise
    except sqlite3.DatabaseError as exc:
        raise StateFileError(role, path, f"SQLite cannot read it ({exc})", remedy) from exc
