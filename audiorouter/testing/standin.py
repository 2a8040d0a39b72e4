"""``ToolMatchingStandIn``: a deterministic TEST DOUBLE of tools + reasoner.

It stands in for the real outcome path (tool executors and the frozen reasoner) in
tests and learning checks. Each item has at most one *required* tool (None: no tool
helps) and a fixed answer without evidence. With a tool subset the stand-in reasoner is

* correct when the required tool is in the subset and at most ``max_distractors``
  other tools are present;
* wrong when more than ``max_distractors`` other tools are present (competing evidence);
* otherwise (only unrelated tools) as correct as without evidence.

So the best routing of every item is known exactly, and so is oracle accuracy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

from audiorouter.contracts import AudioQAItem
from audiorouter.outcomes.base import Outcome, OutcomeSource


class ToolMatchingStandIn(OutcomeSource):
    """Test double: correctness depends on the right tool being present."""

    def __init__(
        self,
        required: Mapping[str, str | None],
        correct_without: Mapping[str, bool],
        max_distractors: int = 1,
    ) -> None:
        self.required = dict(required)
        self.without = dict(correct_without)
        self.max_distractors = max_distractors
        self.calls = 0
        self.items_scored = 0

    @classmethod
    def for_items(
        cls,
        items: Sequence[AudioQAItem],
        task_tool: Mapping[str, str | None],
        correct_without_rate: float = 0.25,
        **kwargs,
    ) -> ToolMatchingStandIn:
        """Required tool by the item's task; correct-without fixed by a hash of the item id."""
        required = {item.id: task_tool[item.task] for item in items}
        without = {item.id: _unit_hash(item.id) < correct_without_rate for item in items}
        return cls(required, without, **kwargs)

    def correct(self, item_id: str, subset: Sequence[str]) -> bool:
        need = self.required[item_id]
        distractors = len([t for t in subset if t != need])
        if distractors > self.max_distractors:
            return False
        if need is not None and need in subset:
            return True
        return self.without[item_id]

    def outcomes(self, item_ids: list[str], subsets: list[tuple[str, ...]]) -> list[Outcome]:
        self.calls += 1
        self.items_scored += len(item_ids)
        return [Outcome(self.correct(i, s), self.without[i]) for i, s in zip(item_ids, subsets, strict=True)]

    def stats(self) -> dict[str, float]:
        return {"standin_calls": float(self.calls), "standin_items": float(self.items_scored)}


def _unit_hash(text: str) -> float:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
