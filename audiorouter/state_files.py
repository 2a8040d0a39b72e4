"""Files a run keeps between processes and runs, checked when they are opened.

A damaged state file (a memo truncated by a full disk, a cache copied half-way, a
``state.json`` cut by a kill) must stop the job at once with one message naming the
file, what is wrong and what to do -- never a worker restarted forever on an error
that will not go away. ``StateFileError`` is that message; the CLI prints it alone.

``check_sqlite_file`` reads a SQLite file's 100-byte header (cheap, done at every
open); ``thorough=True`` also runs SQLite's ``quick_check`` read-only (done once, by
the driver, before any work starts). ``read_json_file`` reads a JSON state file;
``write_text_atomic`` writes one so that a reader never sees half of it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path
from typing import Any

SQLITE_MAGIC = b"SQLite format 3\x00"


class StateFileError(RuntimeError):
    """A state file that cannot be used; the message names it and says what to do."""

    def __init__(self, role: str, path: str | Path, problem: str, remedy: str) -> None:
        super().__init__(f"the {role} {str(path)!r} is damaged: {problem}. {remedy}")
        self.path = str(path)


def move_aside_remedy(key: str) -> str:
    """What to do about a damaged cache: it only saves work, so start another."""
    return (f"It is a cache: move it aside (or delete it) and it is recomputed, or point "
            f"--set {key}=... at another path")


def check_sqlite_file(path: str | Path, role: str, remedy: str, thorough: bool = False) -> None:
    """StateFileError unless ``path`` is absent, empty (SQLite starts it afresh) or a
    SQLite file as long as its header says; ``thorough`` adds ``PRAGMA quick_check``."""
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StateFileError(role, path, f"it cannot be read ({exc.strerror})", remedy) from exc
    if not stat.S_ISREG(info.st_mode):
        raise StateFileError(role, path, "it is not a regular file", remedy)
    if info.st_size == 0:
        return
    with open(path, "rb") as handle:
        header = handle.read(100)
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        raise StateFileError(role, path, "it is not a SQLite database (its header is wrong)", remedy)
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # the header's page count is valid when its change counter matches "version-valid-for",
    # and is the file's length only while no write-ahead log is live: a checkpoint writes
    # page 1 (the new count) before the pages that lengthen the file
    live_wal = path.with_name(path.name + "-wal").exists()
    if pages and header[24:28] == header[92:96] and not live_wal and info.st_size < page_size * pages:
        raise StateFileError(role, path, f"it is truncated ({info.st_size} bytes of the {page_size * pages} "
                                         "its header gives)", remedy)
    if thorough:
        _quick_check(path, role, remedy)


def _quick_check(path: Path, role: str, remedy: str) -> None:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60.0)
        try:
            problems = [row[0] for row in conn.execute("PRAGMA quick_check(5)")]
        finally:
            conn.close()
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc):  # busy, not damaged: the opening process will wait for it
            return
        raise StateFileError(role, path, f"SQLite cannot read it ({exc})", remedy) from exc
    except sqlite3.DatabaseError as exc:
        raise StateFileError(role, path, f"SQLite cannot read it ({exc})", remedy) from exc
    if problems != ["ok"]:
        raise StateFileError(role, path, f"SQLite's integrity check found: {'; '.join(problems)}", remedy)


def read_json_file(path: str | Path, role: str, remedy: str) -> Any:
    """The JSON in ``path``; StateFileError when it cannot be read or parsed."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise StateFileError(role, path, f"it cannot be read ({exc})", remedy) from exc
    except json.JSONDecodeError as exc:
        raise StateFileError(role, path, f"it is not valid JSON ({exc.msg} at line {exc.lineno}, "
                                         f"column {exc.colno})", remedy) from exc


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file beside it and a rename: a
    reader (or a process killed half-way) sees the old file or the new one, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text)
    tmp.replace(path)
    return path
