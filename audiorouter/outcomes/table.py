"""The outcome table: was the reasoner right on item i with tool subset s?

Every routing policy (no tools, all tools, one tool, random, the trained router, the
per-item oracle) is a choice of one subset per item, so one table of outcomes answers
them all, and each (item, subset) is asked of the reasoner once (and memoised).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from audiorouter.outcomes.base import OutcomeSource

Subset = tuple[str, ...]


@dataclass
class OutcomeTable:
    item_ids: list[str]
    tasks: list[str]
    subsets: list[Subset]  # columns; always includes () (no tools)
    correct: np.ndarray  # (items, subsets) bool

    def column(self, subset: Subset) -> int:
        return self.subsets.index(tuple(sorted(subset)))

    def correct_for(self, chosen: Sequence[Subset]) -> np.ndarray:
        """Per item: correct with that item's chosen subset."""
        columns = [self.column(s) for s in chosen]
        return self.correct[np.arange(len(self.item_ids)), columns]

    def oracle(self, allowed: Sequence[Subset]) -> list[Subset]:
        """Per item, the first allowed subset (fewest tools first) that answers correctly,
        else no tools: the upper bound of any router over ``allowed``."""
        ordered = sorted({tuple(sorted(s)) for s in allowed}, key=lambda s: (len(s), s))
        columns = [self.column(s) for s in ordered]
        chosen = []
        for row in self.correct[:, columns]:
            hits = np.flatnonzero(row)
            chosen.append(ordered[hits[0]] if hits.size else ())
        return chosen


def candidate_subsets(tools: Sequence[str], allowed: Sequence[Subset]) -> list[Subset]:
    """Every subset a policy may pick: none, each tool, all tools, and the router's."""
    columns = {(), tuple(sorted(tools))} | {(t,) for t in tools} | {tuple(sorted(s)) for s in allowed}
    return sorted(columns, key=lambda s: (len(s), s))


def build_outcome_table(
    source: OutcomeSource, item_ids: Sequence[str], tasks: Sequence[str], subsets: Sequence[Subset],
    chunk: int = 512, progress: bool = True,
) -> OutcomeTable:
    """Ask ``source`` for every (item, subset), in batched chunks."""
    pairs = [(i, s) for i in item_ids for s in subsets]
    correct: dict[tuple[str, Subset], bool] = {}
    for start in tqdm(range(0, len(pairs), chunk), desc="outcomes", unit="chunk", disable=not progress):
        part = pairs[start : start + chunk]
        outcomes = source.outcomes([p[0] for p in part], [p[1] for p in part])
        for (item_id, subset), outcome in zip(part, outcomes, strict=True):
            correct[(item_id, subset)] = outcome.correct_with
    matrix = np.array([[correct[(i, s)] for s in subsets] for i in item_ids], dtype=bool)
    return OutcomeTable(list(item_ids), list(tasks), list(subsets), matrix)

