"""Memo files in tests: read one while its service may still hold it open; fill one, damage one."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from audiorouter.contracts import ReasonerOutcome
from audiorouter.store.outcome_memo import OutcomeMemo


def memo_keys(path: str | Path) -> set[tuple]:
    """Every (reasoner, item, evidence) key committed to the memo file, read-only."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return set(db.execute("SELECT reasoner_id, item_id, evidence FROM outcomes"))


def filled_memo(path: Path, rows: int = 3000) -> Path:
    memo = OutcomeMemo(path)
    outcome = ReasonerOutcome("item", 1, [0.1, 0.9], True, "prompt", 1.0)
    memo.put_many([(("reasoner", f"item-{i}", "x" * 40), outcome) for i in range(rows)])
    memo.close()
    # fold the WAL into the file, as a finished run leaves it
    sqlite3.connect(path).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    return path


def truncate_to_half(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    for sidecar in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        sidecar.unlink(missing_ok=True)
