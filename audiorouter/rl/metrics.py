"""Per-iteration router metrics: logged on the rollout workers, read in the driver.

``RouterMetricsCallback.on_sample_end`` sums, over the episodes a worker just sampled,
what the environment's infos say (correct with/without evidence, tools called, cost)
and the worker's reward-call counters, under ``env_runners/router/...``. RLlib adds
the sums of all workers; ``IterationMetrics.from_result`` turns them into rates.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ray.rllib.callbacks.callbacks import RLlibCallback

KEY = "router"


class RouterMetricsCallback(RLlibCallback):
    def on_sample_end(self, *, env_runner: Any = None, metrics_logger: Any = None, samples: Any = None, **kwargs):
        counts: Counter[tuple[str, ...]] = Counter()
        items = []
        for episode in samples or []:
            if len(episode) == 0:
                continue
            info = episode.get_infos(-1)
            if "item_id" not in info:
                continue
            tools = [t for t in str(info["tools"]).split("+") if t]
            counts[("episodes",)] += 1
            counts[("reward",)] += float(episode.get_return())
            counts[("correct_with",)] += int(info["correct_with"])
            counts[("correct_without",)] += int(info["correct_without"])
            counts[("tools_called",)] += len(tools)
            counts[("cost",)] += float(info["cost"])
            counts.update(("calls", t) for t in tools)
            items.append(str(info["item_id"]))
        counts.update(_counter_deltas(env_runner))
        for name, value in counts.items():
            metrics_logger.log_value((KEY, *name), float(value), reduce="sum")
        metrics_logger.log_value((KEY, "item_ids"), items, reduce="item_series")


def _counter_deltas(env_runner: Any) -> dict[tuple[str, ...], float]:
    """Growth since the last report of the env's reward calls and the source's counters."""
    env = getattr(getattr(env_runner, "env", None), "unwrapped", None)
    if env is None or not hasattr(env, "reward_calls"):
        return {}
    now = {("reward_calls",): float(env.reward_calls)}
    now.update({("source", k): float(v) for k, v in env.env_spec.reward_source.stats().items()})
    before = getattr(env, "_reported_counters", {})
    env._reported_counters = now
    return {k: v - before.get(k, 0.0) for k, v in now.items()}


@dataclass
class IterationMetrics:
    """What one training iteration did, as rates over its episodes."""

    iteration: int
    episodes: int
    mean_reward: float
    accuracy: float  # correct with the routed evidence, on this iteration's items
    no_tool_accuracy: float  # correct without evidence, on the same items
    mean_tools: float  # tools called per item
    mean_cost: float
    tool_call_rate: dict[str, float]  # per tool: fraction of items it was called for
    unique_items_seen: int  # since training started
    reward_calls: int  # batched RewardSource calls (one per rollout-worker step)
    env_steps_per_s: float  # episodes (= env steps) of the iteration / its wall time (sample + learn)
    source_stats: dict[str, float] = field(default_factory=dict)  # RewardSource.stats() growth
    learner: dict[str, float] = field(default_factory=dict)  # loss terms of the update
    # rollout workers answering after the iteration, and restarts so far (a lost node shows here)
    healthy_env_runners: int = 0
    env_runner_restarts: int = 0
    empty_rounds: int = 0  # rounds before this iteration that sampled nothing (no rollout worker alive)

    @classmethod
    def from_result(
        cls, result: dict, iteration: int, seen: set[str], tools: tuple[str, ...], wall_s: float
    ) -> IterationMetrics:
        """Read one ``Algorithm.train()`` result; adds this iteration's items to ``seen``."""
        sums = result.get("env_runners", {}).get(KEY, {})
        for chunk in sums.get("item_ids", []) or []:
            seen.update(chunk if isinstance(chunk, list) else [chunk])
        total = {k: _finite(v) for k, v in sums.items() if k not in ("item_ids", "calls", "source")}
        episodes = total.get("episodes", 0.0)  # 0 when every sample was lost (a worker died)
        n = max(1.0, episodes)
        calls = sums.get("calls", {})
        return cls(
            iteration=iteration,
            episodes=int(episodes),
            mean_reward=total.get("reward", 0.0) / n,
            accuracy=total.get("correct_with", 0.0) / n,
            no_tool_accuracy=total.get("correct_without", 0.0) / n,
            mean_tools=total.get("tools_called", 0.0) / n,
            mean_cost=total.get("cost", 0.0) / n,
            tool_call_rate={t: _finite(calls.get(t, 0.0)) / n for t in tools},
            unique_items_seen=len(seen),
            reward_calls=int(total.get("reward_calls", 0.0)),
            env_steps_per_s=episodes / max(wall_s, 1e-9),
            source_stats={k: _finite(v) for k, v in sums.get("source", {}).items()},
            learner=_learner_scalars(result),
        )


def _finite(value: object) -> float:
    """RLlib reports NaN for a sum with no samples; count it as 0."""
    number = float(value) if isinstance(value, (int, float)) else 0.0
    return number if math.isfinite(number) else 0.0


def _learner_scalars(result: dict) -> dict[str, float]:
    module = result.get("learners", {}).get("default_policy", {})
    keep = ("policy_loss", "vf_loss", "entropy", "mean_kl_loss", "informative_fraction", "clip_fraction")
    return {k: float(module[k]) for k in keep if k in module}
