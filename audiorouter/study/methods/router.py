"""Study trials of the RL routers, trained from outcome rewards (``router-ppo``,
``router-group-relative``), and the test-split scoring every router trial ends with
(``save_and_score``, on the test split and each out-of-distribution split; the
supervised, table, lookup and LM routers use it too).

Budget rule of the RL routers: ``study.episodes_per_item`` episodes per training item,
so iterations = max(study.min_iterations, ceil(episodes_per_item * size /
train.train_batch_size)); every size sees each item about equally often. Each trial
samples in its own process (no extra rollout workers: trials are the parallelism) and
asks the shared reasoner actors, whose memo answers what another trial already asked.

A trial of size 0 is the router before any training (``untrained_router``): the same
network, seeded, its input standardised by the pool's features (no labels read), so the
study reports every method's starting point beside its curve.

The registry (``study.methods``) names the learner each router method trains with.

Imports: outcomes, rl (RLlib lazily), router, study.context, study.methods (the sizes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from audiorouter.config import TrainConfig
from audiorouter.outcomes.pipeline import PipelineOutcomeSource
from audiorouter.rl.metrics import IterationMetrics
from audiorouter.rl.rewards import OutcomeRewardSource, ToolCost
from audiorouter.router.actions import ActionSpace
from audiorouter.router.loading import Router
from audiorouter.router.policy import RouterNet, RouterPolicy, feature_stats
from audiorouter.study.context import StudyContext, TrialSpec
from audiorouter.study.methods.catalog import max_router_size, source_training_cost, training_cost


def rl_iterations(ctx: StudyContext, size: int) -> int:
    study, train = ctx.config.study, ctx.config.train
    return max(study.min_iterations, math.ceil(study.episodes_per_item * size / train.train_batch_size))


@dataclass
class RLTrialInputs:
    """What an RL router trial trains from: its budget, its pool items and their rewards."""

    train: TrainConfig
    ids: list[str]
    outcomes: PipelineOutcomeSource
    source: OutcomeRewardSource


def rl_trial_inputs(spec: TrialSpec, ctx: StudyContext, algorithm: str) -> RLTrialInputs:
    """The budget rule's train config for ``spec`` with ``algorithm``, the seed's first N pool
    items and the outcome reward on them (every RL router trial, MLP or LM)."""
    train = replace(ctx.config.train, algorithm=algorithm, train_size=spec.train_size,
                    iterations=rl_iterations(ctx, spec.train_size), seed=spec.seed, num_env_runners=0)
    train.validate()
    ids = ctx.data.training_ids(spec.train_size, spec.seed, pool=True)
    outcomes = ctx.outcome_source(ids, ctx.data.pool_splits)
    source = OutcomeRewardSource(outcomes, train.reward, ToolCost(train.tool_cost_weight, ctx.tool_latency_s))
    return RLTrialInputs(train, ids, outcomes, source)


def train_rl_router(spec: TrialSpec, ctx: StudyContext, algorithm: str) -> tuple[RouterPolicy, dict]:
    from audiorouter.rl.trainer import RouterTrainer  # RLlib: only in trials that need it

    run = rl_trial_inputs(spec, ctx, algorithm)
    train, outcomes = run.train, run.outcomes
    trainer = RouterTrainer(train, ctx.config.router, ctx.tools, ctx.router_features(run.ids), run.source,
                            ctx.feature_spec)
    try:
        history = trainer.train()
        policy = trainer.policy()
    finally:
        trainer.stop()
    return policy, rl_trial_info(train.iterations, history, outcomes.stats())


def rl_trial_info(iterations: int, history: list[IterationMetrics], source_stats: dict) -> dict:
    """What an RL router trial reports of its training: the budget it ran, its calls axis
    and where it ended on its training items."""
    last = history[-1]
    # the env runner asks its own copy of the source: its counters come back as each iteration's growth
    grown = {k: sum(m.source_stats.get(k, 0.0) for m in history) for k in ("distinct_requests", "distinct_tool_runs")}
    return {"iterations": iterations, "episodes": sum(m.episodes for m in history),
            "training_cost": source_training_cost(grown),
            "final_train_accuracy": last.accuracy, "final_mean_tools": last.mean_tools, "source": source_stats}


def train_and_score(spec: TrialSpec, ctx: StudyContext, folder: Path,
                    algorithm: str) -> tuple[dict[str, list[bool]], dict]:
    """An RL router trial: train with the learner ``algorithm`` (rl.registry), keep the policy in
    ``folder/policy``, score it on every evaluation split."""
    if spec.train_size == 0:
        return save_and_score(*untrained_router(ctx, spec.seed), ctx, folder)
    return save_and_score(*train_rl_router(spec, ctx, algorithm), ctx, folder)


def untrained_router(ctx: StudyContext, seed: int) -> tuple[RouterPolicy, dict]:
    """The router network as training would start it (every router method's N=0 point)."""
    cfg = ctx.config
    actions = ActionSpace(tuple(ctx.tools), cfg.router.action_space, cfg.router.max_tools_per_call)
    pool = ctx.data.training_union(max_router_size(cfg.study), pool=True)
    mean, std = feature_stats(ctx.router_features(pool).matrix())  # features only: no labels are read
    hidden = tuple(cfg.router.hidden_sizes)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net = RouterNet(len(mean), actions.num_logits, hidden, mean, std).eval()
    return RouterPolicy(net, actions, ctx.feature_spec, hidden), {"untrained": True, "training_cost": training_cost(0, 0)}


def save_and_score(policy: Router, info: dict, ctx: StudyContext,
                   folder: Path) -> tuple[dict[str, list[bool]], dict]:
    """Every router trial's end: the policy into ``folder/policy``, then its score on
    every evaluation split (the test split and the out-of-distribution ones)."""
    policy.save(folder / "policy")
    correct, split_info = {}, {}
    for split, ids in ctx.data.eval_splits.items():
        correct[split], scored = score_on_split(policy, ctx, split, ids)
        prefix = "" if split == "test" else f"{split}_"  # the test split's keys as before
        split_info |= {f"{prefix}{k}": v for k, v in scored.items() if k != "source"}
        split_info[f"{split}_source"] = scored["source"]  # test_source, reworded_source, ...
    return correct, info | split_info


def score_on_split(policy: Router, ctx: StudyContext, split: str, ids: list[str]) -> tuple[list[bool], dict]:
    """Per item of ``split``: is the reasoner right with the router's greedy subset."""
    if isinstance(policy, RouterPolicy):  # the MLP reads the features the driver computed once
        decisions = policy.route(ctx.router_features(ids).matrix(), ids)
    else:  # an LM router reads the question, its choices and (by its settings) the clip
        decisions = policy.route_items(ctx.items(ids, (split,)))
    routed = [tuple(sorted(d.tools)) for d in decisions]
    source = ctx.outcome_source(ids, (split,))
    outcomes = source.outcomes(ids, routed)
    calls = {t: sum(t in s for s in routed) / len(ids) for t in ctx.tools}
    info = {"mean_tools": sum(map(len, routed)) / len(ids), "tool_call_rate": calls, "source": source.stats()}
    return [o.correct_with for o in outcomes], info
