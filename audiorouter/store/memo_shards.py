"""Outcome-memo rows as shards (``store.shards``), so computed answers outlive a machine.

A study on the CPU language model costs hours of model time and may run over several
sessions on machines that keep nothing but the repository. ``export_new`` writes the
memo's rows that no shard of a folder holds yet into a new shard (one JSON object per
line: reasoner_id, item_id, evidence, outcome); ``import_shards`` puts every shard's rows
that the memo lacks into it. A row's key is the memo's own (reasoner, item, evidence
fingerprint), so an imported outcome is used only for exactly the request that produced it.
"""

from __future__ import annotations

from pathlib import Path

from audiorouter.contracts import ReasonerOutcome
from audiorouter.store.outcome_memo import OutcomeMemo
from audiorouter.store.shards import ShardFormat, read_rows, write_new_rows

MEMO_SHARDS = ShardFormat("outcome memo", ("reasoner_id", "item_id", "evidence"), "outcome", ReasonerOutcome,
                          "a reasoner outcome")


def open_file(path: str | Path) -> OutcomeMemo:
    return OutcomeMemo(path)


def export_new(memo: OutcomeMemo, folder: str | Path) -> tuple[Path | None, int]:
    """Write the memo's rows that no shard in ``folder`` holds into a new shard; returns
    (its path, rows), or (None, 0) when every row is already in a shard."""
    return write_new_rows(memo.rows(), folder, MEMO_SHARDS)


def import_shards(memo: OutcomeMemo, folder: str | Path) -> int:
    """Put every shard row the memo lacks into it (rows it has stay as they are); returns
    how many were added. Every shard is read and checked before the memo is touched."""
    return memo.put_missing(read_rows(folder, MEMO_SHARDS))
