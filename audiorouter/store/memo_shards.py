"""Outcome-memo rows as append-only text shards, so computed answers outlive a machine.

A study on the CPU language model costs hours of model time and may run over several
sessions on machines that keep nothing but the repository. ``export_new_rows`` writes the
memo's rows that no shard of a folder holds yet into the next ``part-NNNN.jsonl.gz`` (one
JSON object per line: reasoner_id, item_id, evidence, outcome); ``import_shards`` puts every
shard's rows that the memo lacks into it. Shards are never rewritten, so a repository that
keeps them stores each row once. A row's key is the memo's own (reasoner, item, evidence
fingerprint), so an imported outcome is used only for exactly the request that produced it.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import asdict
from pathlib import Path

from audiorouter.contracts import ReasonerOutcome
from audiorouter.state_files import StateFileError
from audiorouter.store.outcome_memo import MemoKey, OutcomeMemo

SHARD_PATTERN = re.compile(r"^part-(\d{4})\.jsonl\.gz$")
FIELDS = ("reasoner_id", "item_id", "evidence", "outcome")


class ShardError(StateFileError):
    """A shard that cannot be read: names the file, the line and the problem."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__("outcome memo shard", path, problem,
                         "Restore it (git checkout -- <file>) or move it aside: its outcomes are then recomputed")


def shard_paths(folder: str | Path) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if SHARD_PATTERN.match(p.name))


def read_shard(path: Path) -> list[tuple[MemoKey, ReasonerOutcome]]:
    rows = []
    try:
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                rows.append(_parse_row(path, number, line))
    except (OSError, EOFError, UnicodeDecodeError) as err:
        raise ShardError(path, f"cannot be read ({err})") from err
    return rows


def _parse_row(path: Path, number: int, line: str) -> tuple[MemoKey, ReasonerOutcome]:
    where = f"line {number}"
    try:
        row = json.loads(line)
    except json.JSONDecodeError as err:
        raise ShardError(path, f"{where}: not JSON ({err.msg})") from err
    if not isinstance(row, dict) or set(row) != set(FIELDS):
        raise ShardError(path, f"{where}: expected an object with exactly {', '.join(FIELDS)}")
    key = (row["reasoner_id"], row["item_id"], row["evidence"])
    if not all(isinstance(part, str) for part in key):
        raise ShardError(path, f"{where}: reasoner_id, item_id and evidence must be strings")
    try:
        outcome = ReasonerOutcome(**row["outcome"])
    except TypeError as err:
        raise ShardError(path, f"{where}: outcome is not a reasoner outcome ({err})") from err
    return key, outcome


def shard_keys(folder: str | Path) -> set[MemoKey]:
    return {key for path in shard_paths(folder) for key, _ in read_shard(path)}


def export_new_rows(memo: OutcomeMemo, folder: str | Path) -> tuple[Path | None, int]:
    """Write the memo's rows that no shard in ``folder`` holds into a new shard; returns
    (its path, rows), or (None, 0) when every row is already in a shard."""
    folder = Path(folder)
    known = shard_keys(folder)
    rows = [(key, outcome) for key, outcome in memo.rows() if key not in known]
    if not rows:
        return None, 0
    existing = shard_paths(folder)
    number = int(SHARD_PATTERN.match(existing[-1].name).group(1)) + 1 if existing else 0
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"part-{number:04d}.jsonl.gz"
    partial = path.with_name(path.name + ".partial")  # a cut-off export leaves no shard behind
    with gzip.open(partial, "wt", encoding="utf-8") as out:
        for (reasoner_id, item_id, evidence), outcome in sorted(rows, key=lambda row: row[0]):
            out.write(json.dumps({"reasoner_id": reasoner_id, "item_id": item_id, "evidence": evidence,
                                  "outcome": asdict(outcome)}, sort_keys=True) + "\n")
    partial.rename(path)
    return path, len(rows)


def import_shards(memo: OutcomeMemo, folder: str | Path) -> int:
    """Put every shard row the memo lacks into it (rows it has stay as they are); returns
    how many were added. Every shard is read and checked before the memo is touched."""
    entries = [row for path in shard_paths(folder) for row in read_shard(path)]
    return memo.put_missing(entries)
