"""The stages' Parquet outputs: ``OUT/<stage>/part-NNNNN.parquet``, one part per batch.

A part is written to a temporary name then renamed, so it is all there or absent. The
ids a part covers are kept in its schema metadata (``audiorouter.item_ids``): an item
routed to no tools has no evidence rows but is still recorded as done, and a rerun
skips exactly the ids some part already covers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from audiorouter.contracts import RoutingDecision
from audiorouter.data.items import write_table_atomic

IDS_KEY = b"audiorouter.item_ids"
DECISIONS, EVIDENCE, ANSWERS = "decisions", "evidence", "answers"

DECISIONS_SCHEMA = pa.schema([
    pa.field("item_id", pa.string(), nullable=False),
    pa.field("tools", pa.list_(pa.string()), nullable=False),
    pa.field("log_prob", pa.float64(), nullable=False),
])
ANSWERS_SCHEMA = pa.schema([
    pa.field("item_id", pa.string(), nullable=False),
    pa.field("chosen_index", pa.int64(), nullable=False),
    pa.field("prediction", pa.string(), nullable=False),  # the chosen choice's text, "" when none
    pa.field("answer", pa.string(), nullable=True),
    pa.field("correct", pa.bool_(), nullable=True),  # None when the label is unknown
    pa.field("error", pa.string(), nullable=True),
    pa.field("latency_ms", pa.float64(), nullable=False),
])



def part_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("part-*.parquet"))


def done_ids(folder: str | Path) -> set[str]:
    """Item ids covered by the parts in ``folder`` (from each part's metadata)."""
    ids: set[str] = set()
    for path in part_files(Path(folder)):
        meta = pq.read_schema(path).metadata or {}
        ids.update(json.loads(meta.get(IDS_KEY, b"[]")))
    return ids


def write_part(folder: Path, rows: list[dict[str, Any]], schema: pa.Schema, item_ids: list[str]) -> Path:
    """One part with ``rows``, covering ``item_ids``; atomic (temporary file, then rename)."""
    folder.mkdir(parents=True, exist_ok=True)
    existing = part_files(folder)
    index = int(existing[-1].stem.split("-")[1]) + 1 if existing else 0
    table = pa.Table.from_pylist(rows, schema=schema) if rows else schema.empty_table()
    table = table.replace_schema_metadata({IDS_KEY: json.dumps(item_ids).encode()})
    return write_table_atomic(table, folder / f"part-{index:05d}.parquet")


def read_rows(folder: str | Path, schema: pa.Schema) -> list[dict[str, Any]]:
    files = part_files(Path(folder))
    return [row for f in files for row in pq.read_table(f, schema=schema).to_pylist()]


def read_decisions(out: str | Path) -> dict[str, RoutingDecision]:
    rows = read_rows(Path(out) / DECISIONS, DECISIONS_SCHEMA)
    return {r["item_id"]: RoutingDecision(r["item_id"], tuple(r["tools"]), r["log_prob"]) for r in rows}


def read_answers(out: str | Path) -> list[dict[str, Any]]:
    return read_rows(Path(out) / ANSWERS, ANSWERS_SCHEMA)


def answer_counts(out: str | Path) -> dict[str, int]:
    """Over every answer written so far: ``answered``, ``labelled``, ``correct``, ``failed``."""
    rows = read_answers(out)
    return {"answered": len(rows), "labelled": sum(r["correct"] is not None for r in rows),
            "correct": sum(bool(r["correct"]) for r in rows), "failed": sum(r["error"] is not None for r in rows)}


def accuracy_summary(out: str | Path) -> str | None:
    """``accuracy: K/N = X%`` over answers with a known label; None when there are none."""
    counts = answer_counts(out)
    if not counts["labelled"]:
        return None
    right, labelled = counts["correct"], counts["labelled"]
    return f"accuracy: {right}/{labelled} = {100 * right / labelled:.1f}% ({counts['failed']} failed requests)"
