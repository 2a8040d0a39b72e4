"""Which items a kept record was computed on: the study dataset's lineage.

A study's items are generated once (one fingerprint over every item), and a grid that
grows later appends training items as a new split (``study.dataset``), each with its own
fingerprint: the lineage is that list, oldest first. Appending items leaves every earlier
item and the first items of every seed's nested order as they were, so what was computed
on a lineage (a kept trial result, a piece of the cost ledger) still holds on any lineage
that continues it. Records written before lineages existed hold one fingerprint string.
"""

from __future__ import annotations


def as_lineage(recorded: str | list[str] | None) -> list[str]:
    """A recorded dataset (a lineage, an older single fingerprint, or nothing) as a lineage."""
    if recorded is None:
        return []
    return [recorded] if isinstance(recorded, str) else list(recorded)


def continues(current: list[str], recorded: str | list[str] | None) -> bool:
    """Whether the items of ``current`` are those of ``recorded``, perhaps with more appended."""
    before = as_lineage(recorded)
    return bool(before) and current[: len(before)] == before
