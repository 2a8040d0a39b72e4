"""The training-item draw: exact size, unique, every task family, reproducible by seed."""

from __future__ import annotations

import pytest

from audiorouter.contracts import AudioQAItem
from audiorouter.data.selection import pick_training_items


def _items(task_counts: dict[str, int]) -> list[AudioQAItem]:
    return [AudioQAItem(f"{task}-{k}", "q?", ["a", "b"], "a", task, "c", "s", "easy", "synth")
            for task, n in task_counts.items() for k in range(n)]


def test_training_items_are_exact_unique_balanced_and_reproducible():
    items = _items({"tempo": 10, "pitch": 10, "count": 2})
    picked = pick_training_items(items + items[:3], 9, seed=0)  # duplicates are ignored
    assert len(picked) == len({i.id for i in picked}) == 9
    tasks = [i.task for i in picked]
    assert tasks.count("count") == 2 and tasks.count("tempo") >= 3 and tasks.count("pitch") >= 3
    assert [i.id for i in pick_training_items(items, 9, seed=0)] == [i.id for i in picked]
    assert [i.id for i in pick_training_items(items, 9, seed=1)] != [i.id for i in picked]
    with pytest.raises(ValueError, match="only 22 unique items"):
        pick_training_items(items, 23, seed=0)
