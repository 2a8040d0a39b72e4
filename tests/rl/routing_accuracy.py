"""Routing accuracy of a policy against the per-item oracle, through any RewardSource.

``oracle`` is the fraction of items for which SOME allowed subset makes the reasoner
correct; ``router`` the fraction the policy's greedy subset makes correct. Each is
measured with batched ``RewardSource.rewards`` calls (one per subset for the oracle).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audiorouter.features import ItemFeatures
from audiorouter.rl.rewards import RewardSource
from audiorouter.router.policy import RouterPolicy


@dataclass
class RoutingAccuracy:
    items: int
    router: float  # correct with the policy's greedy subset
    oracle: float  # correct with the best allowed subset of each item
    no_tools: float  # correct without evidence
    mean_tools: float  # tools the policy calls per item

    @property
    def of_oracle(self) -> float:
        """Router accuracy as a fraction of oracle-routing accuracy."""
        return self.router / self.oracle if self.oracle > 0 else 0.0


def routing_accuracy(policy: RouterPolicy, features: ItemFeatures, source: RewardSource) -> RoutingAccuracy:
    ids = list(features.item_ids)
    decisions = policy.route(features.matrix(), ids)
    chosen = source.rewards(ids, [d.tools for d in decisions])
    per_subset = np.array(
        [[info.correct_with for info in source.rewards(ids, [subset] * len(ids))] for subset in policy.actions.subsets]
    )
    return RoutingAccuracy(
        items=len(ids),
        router=float(np.mean([info.correct_with for info in chosen])),
        oracle=float(per_subset.any(axis=0).mean()),
        no_tools=float(np.mean([info.correct_without for info in chosen])),
        mean_tools=float(np.mean([len(d.tools) for d in decisions])),
    )
