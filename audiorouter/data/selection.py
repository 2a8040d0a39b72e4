"""Which items a run trains on: a reproducible draw that covers every task family."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from audiorouter.contracts import AudioQAItem


def pick_training_items(items: Sequence[AudioQAItem], train_size: int, seed: int) -> list[AudioQAItem]:
    """Exactly ``train_size`` unique items, drawn round-robin over tasks, reproducibly.

    Items are shuffled within each task by ``seed``; tasks take turns, so a small
    training set still covers every task family.
    """
    by_task: dict[str, list[AudioQAItem]] = {}
    for item in {item.id: item for item in items}.values():
        by_task.setdefault(item.task, []).append(item)
    rng = np.random.default_rng(seed)
    queues = [[group[i] for i in rng.permutation(len(group))] for _, group in sorted(by_task.items())]
    picked: list[AudioQAItem] = []
    while len(picked) < train_size and any(queues):
        for queue in queues:
            if queue and len(picked) < train_size:
                picked.append(queue.pop(0))
    if len(picked) < train_size:
        raise ValueError(f"train_size is {train_size} but only {len(picked)} unique items are available")
    return picked
