"""Hand-built outcome tables whose best routing is known (Ray-free, no model): items in
task groups, each allowed subset right on a fixed fraction of a group's items, and router
features whose question embedding tells the groups apart."""

from __future__ import annotations

import numpy as np

from audiorouter.features import ItemFeatures
from audiorouter.features.spec import QUESTION_DIM
from audiorouter.outcomes.table import OutcomeTable
from audiorouter.router.actions import ActionSpace

TOOLS = ("a", "b", "c")
# the best subset of each group is right on 80 / 70 / 60 % of its items; the others less
RATES = {
    "pitch": {("a",): 0.8, (): 0.3, ("b",): 0.4, ("a", "b"): 0.75},
    "tempo": {("b",): 0.7, (): 0.3, ("a", "c"): 0.5},
    "words": {(): 0.6, ("c",): 0.55, ("a",): 0.2},
}


def actions_of(kind: str) -> ActionSpace:
    return ActionSpace(TOOLS, kind, 2 if kind == "subsets" else 0)


def grouped_table(rates: dict[str, dict[tuple[str, ...], float]], per_group: int, actions: ActionSpace,
                  seed: int = 0, prefix: str = "i", noise: float = 0.0) -> tuple[ItemFeatures, OutcomeTable]:
    """``per_group`` items per group; subset s is right on round(rate * per_group) of a
    group's items (``rates[group][s]``, 0 where not named), on items drawn independently
    per subset. Features: a unit direction per group (question) and a group's constant
    (audio), plus ``noise``: without it no function of the features can tell a group's
    items apart, so the best routing is each group's best subset (``best_per_group``)."""
    rng = np.random.default_rng(seed)
    directions = rng.normal(size=(len(rates), QUESTION_DIM))
    ids, tasks, rows, question = [], [], [], []
    for g, (group, rate) in enumerate(rates.items()):
        block = np.zeros((per_group, len(actions.subsets)), dtype=bool)
        for a, subset in enumerate(actions.subsets):
            right = int(round(rate.get(subset, 0.0) * per_group))
            block[rng.permutation(per_group)[:right], a] = True
        rows.append(block)
        ids += [f"{prefix}-{group}-{k:03d}" for k in range(per_group)]
        tasks += [group] * per_group
        question.append(directions[g] / np.linalg.norm(directions[g]) + noise * rng.normal(size=(per_group, QUESTION_DIM)))
    subsets = [tuple(sorted(s)) for s in actions.subsets]
    table = OutcomeTable(ids, tasks, subsets, np.concatenate(rows))
    audio = np.repeat(rng.normal(size=(len(rates), 5)), per_group, axis=0) + noise * rng.normal(size=(len(ids), 5))
    
    return ItemFeatures(ids, np.concatenate(question).astype(np.float32), audio.astype(np.float32)), table


def best_per_group(rates: dict[str, dict[tuple[str, ...], float]], per_group: int) -> float:
    """The best accuracy any routing that tells the groups apart reaches on such a table."""
    return float(np.mean([max(round(r * per_group) for r in rate.values()) / per_group for rate in rates.values()]))
