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
from audiorouter.store.shards import ShardFormat, import_rows, write_new_rows


def _check(key: tuple[str, ...], outcome: ReasonerOutcome) -> None:
    """What the memo stores: an answered request of this item (never an error outcome),
    one score per choice, the chosen one among them (-1: a generated answer named none)."""
    if outcome.item_id != key[1]:
        raise ValueError(f"outcome.item_id {outcome.item_id!r} is not the row's item_id")
    if outcome.error is not None:
        raise ValueError("outcome has an error: the memo never stores failed requests")
    if not outcome.scores:
        raise ValueError("outcome.scores is empty: an outcome scores every choice")
    if not -1 <= outcome.chosen_index < len(outcome.scores):
        raise ValueError(f"outcome.chosen_index {outcome.chosen_index} is not -1 or a choice of "
                         f"{len(outcome.scores)}")
    if outcome.latency_ms < 0:
        raise ValueError(f"outcome.latency_ms {outcome.latency_ms} is negative")


MEMO_SHARDS = ShardFormat("outcome memo", ("reasoner_id", "item_id", "evidence"), "outcome", ReasonerOutcome,
                          "a reasoner outcome", _check)


def open_file(path: str | Path) -> OutcomeMemo:
    return OutcomeMemo(path)


def export_new(memo: OutcomeMemo, folder: str | Path) -> tuple[Path | None, int]:
    """Write the memo's rows that no shard in ``folder`` holds into a new shard; returns
    (its path, rows), or (None, 0) when every row is already in a shard."""
    return write_new_rows(memo.rows(), folder, MEMO_SHARDS)


def import_shards(memo: OutcomeMemo, folder: str | Path) -> int:
    """Put every shard row the memo lacks into it (rows it has stay as they are); returns
    how many were added. Every shard is read and checked before the memo is touched."""
    return import_rows(folder, MEMO_SHARDS, memo.put_missing)
