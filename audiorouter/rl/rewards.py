"""Rewards of one routing decision, and the interface the environment scores through.

The environment makes ONE call per vector step for all its sub-environments::

    infos = source.rewards(item_ids, subsets)     # list[RewardInfo], one per pair

A ``RewardSource`` is anything with that method; it must pickle: it travels to the
rollout workers inside the env config (each worker gets its own copy) and is saved with
RLlib checkpoints. So it holds names and paths (e.g. named Ray actors, looked up on
first use) rather than open handles, and opens heavier resources lazily.
``OutcomeRewardSource`` is the usual one: it asks an ``OutcomeSource``
(audiorouter.outcomes) for the reasoner's outcomes with and without the routed evidence
and turns them into rewards with a registered reward function and the per-tool cost.

Reward functions (``@register_reward(name)``, ``get_reward``, ``reward_names()``; signature
``(correct_with, correct_without) -> float``):

* ``relative`` = correct(with routed evidence) - correct(without evidence)
* ``absolute`` = correct(with routed evidence)

Each minus the cost of the tools called: ``cost = sum_t weight * mean_latency_s[t]``.
"""

from __future__ import annotations

import abc
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from audiorouter.outcomes.base import Outcome, OutcomeSource
from audiorouter.registry import Registry

RewardFn = Callable[[bool, bool], float]
REWARDS: Registry[RewardFn] = Registry("reward")


def register_reward(name: str) -> Callable[[RewardFn], RewardFn]:
    """Decorator: make a reward function available by ``name``."""
    return REWARDS.register(name)


def get_reward(name: str) -> RewardFn:
    return REWARDS.get(name)


def reward_names() -> list[str]:
    return REWARDS.names()


@register_reward("relative")
def relative_reward(correct_with: bool, correct_without: bool) -> float:
    return float(correct_with) - float(correct_without)


@register_reward("absolute")
def absolute_reward(correct_with: bool, correct_without: bool) -> float:
    return float(correct_with)


@dataclass(frozen=True)
class ToolCost:
    """Latency-weighted tool cost: each tool called costs ``weight * mean_latency_s[tool]``."""

    weight: float = 0.0
    mean_latency_s: dict[str, float] = field(default_factory=dict)

    def __call__(self, tools: Sequence[str]) -> float:
        if self.weight == 0.0:
            return 0.0
        missing = [t for t in tools if t not in self.mean_latency_s]
        if missing:
            raise KeyError(f"no mean latency for tools {missing}; known: {sorted(self.mean_latency_s)}")
        return self.weight * sum(self.mean_latency_s[t] for t in tools)


@dataclass
class RewardInfo:
    """The reward of one (item, tool subset) and what it was made of."""

    reward: float
    correct_with: bool  # the reasoner's outcome with the routed evidence
    correct_without: bool  # ... and with no evidence
    tools_called: tuple[str, ...]
    cost: float  # already subtracted from ``reward``


class RewardSource(abc.ABC):
    """Scores routing decisions in batches (one call per env-runner step)."""

    @abc.abstractmethod
    def rewards(self, item_ids: list[str], subsets: list[tuple[str, ...]]) -> list[RewardInfo]:
        """One ``RewardInfo`` per (item id, tool subset) pair, in order."""

    def stats(self) -> dict[str, float]:
        """Monotone counters for metrics (e.g. reasoner calls made, served from memo)."""
        return {}

    def disabled_tools(self) -> dict[str, str]:
        """Tools disabled after repeated crashes (tool -> why); their evidence is an error."""
        return {}

    def check_ready(self) -> None:
        """Raise what stops every rollout worker from scoring (see ``OutcomeSource``)."""
        return None


class OutcomeRewardSource(RewardSource):
    """Rewards from an ``OutcomeSource``: the reward function of (correct with the routed
    evidence, correct without) minus the tools' cost."""

    def __init__(self, outcomes: OutcomeSource, reward: str = "relative", cost: ToolCost | None = None) -> None:
        self.outcome_source = outcomes
        self.reward_name = reward
        self.reward_fn = get_reward(reward)
        self.cost = cost or ToolCost()
        # seconds this process waited for outcomes (reasoner, memo, tools): a rollout
        # worker's share of time bound by the reasoner rather than by its own compute
        self.outcome_wait_s = 0.0

    def rewards(self, item_ids: list[str], subsets: list[tuple[str, ...]]) -> list[RewardInfo]:
        if len(item_ids) != len(subsets):
            raise ValueError(f"{len(item_ids)} item ids but {len(subsets)} subsets")
        start = time.perf_counter()
        outcomes = self.outcome_source.outcomes(item_ids, subsets)
        self.outcome_wait_s += time.perf_counter() - start
        return [self.score(o, s) for o, s in zip(outcomes, subsets, strict=True)]

    def score(self, outcome: Outcome, subset: tuple[str, ...]) -> RewardInfo:
        cost = self.cost(subset)
        reward = self.reward_fn(outcome.correct_with, outcome.correct_without) - cost
        return RewardInfo(reward, outcome.correct_with, outcome.correct_without, tuple(subset), cost)

    def stats(self) -> dict[str, float]:
        return self.outcome_source.stats() | {"outcome_wait_s": self.outcome_wait_s}

    def disabled_tools(self) -> dict[str, str]:
        return self.outcome_source.disabled_tools()

    def check_ready(self) -> None:
        self.outcome_source.check_ready()
