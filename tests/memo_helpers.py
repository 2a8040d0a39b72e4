"""Reading a memo file from a test while its service may still hold it open."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def memo_keys(path: str | Path) -> set[tuple]:
    """Every (reasoner, item, evidence) key committed to the memo file, read-only."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return set(db.execute("SELECT reasoner_id, item_id, evidence FROM outcomes"))
