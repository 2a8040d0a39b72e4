"""What the routers trained on a whole outcome table share (``supervised-router``,
``table-router``, ``lookup-router``): the trial's table over every allowed subset, the
value of each subset per item, and the checks and seeding their fits use.

Imports: features, outcomes, rl.rewards, router, study.context, study.methods.catalog.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import torch

from audiorouter.features import ItemFeatures
from audiorouter.outcomes.table import OutcomeTable, Subset, build_outcome_table
from audiorouter.rl.rewards import ToolCost
from audiorouter.router.actions import ActionSpace
from audiorouter.study.context import StudyContext, TrialSpec
from audiorouter.study.methods.catalog import source_training_cost
from audiorouter.study.methods.threads import one_thread


def subset_name(subset: Subset) -> str:
    return "+".join(subset) if subset else "none"


def require_columns(table: OutcomeTable, actions: ActionSpace) -> None:
    """A ValueError naming every subset of ``actions`` that ``table`` has no column for."""
    present = set(table.subsets)
    missing = [s for s in actions.subsets if tuple(sorted(s)) not in present]
    if missing:
        raise ValueError(
            f"the outcome table has no column for subsets {missing} of the {actions.kind!r} action space over "
            f"{list(actions.tools)}; build it over every subset in actions.subsets "
            f"(e.g. candidate_subsets(tools, actions.subsets))"
        )


def action_values(table: OutcomeTable, actions: ActionSpace, cost: ToolCost | None = None) -> np.ndarray:
    """(items, len(actions.subsets)): correct with each allowed subset, minus its tool cost."""
    require_columns(table, actions)
    correct = table.correct[:, [table.column(s) for s in actions.subsets]].astype(np.float32)
    penalty = np.array([(cost or ToolCost())(s) for s in actions.subsets], dtype=np.float32)
    return correct - penalty


def training_table(spec: TrialSpec, ctx: StudyContext) -> tuple[OutcomeTable, ActionSpace, dict]:
    """The outcome table of a trial's training items over every allowed subset (from the
    pool: the memo answers what another trial asked), its action space, and ``info``: the
    source's counters, whose distinct pairs are the trial's training reasoner calls."""
    cfg = ctx.config
    ids = ctx.data.training_ids(spec.train_size, spec.seed, pool=True)
    actions = ActionSpace(tuple(ctx.tools), cfg.router.action_space, cfg.router.max_tools_per_call)
    outcomes = ctx.outcome_source(ids, ctx.data.pool_splits)
    # columns are sorted tool tuples (OutcomeTable.column sorts), actions list tools in their own order
    table = build_outcome_table(outcomes, ids, [ctx.data.tasks[i] for i in ids],
                                [tuple(sorted(s)) for s in actions.subsets], progress=False)
    stats = outcomes.stats()
    return table, actions, {"source": stats, "training_cost": source_training_cost(stats)}


def feature_matrix(features: ItemFeatures, item_ids: list[str], what: str) -> np.ndarray:
    known = set(features.item_ids)
    missing = [i for i in item_ids if i not in known]
    if missing:
        raise ValueError(f"no router features for {len(missing)} {what} items, e.g. {missing[:3]}")
    return features.select(item_ids).matrix()


@contextlib.contextmanager
def seeded_one_thread(seed: int) -> Iterator[None]:
    """Seed torch for the block without touching the caller's RNG; one CPU thread."""
    with one_thread(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield
