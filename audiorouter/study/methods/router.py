"""Study trials of the RL routers, trained from outcome rewards (``router-ppo``,
``router-group-relative``), and the test-split scoring every router trial ends with
(``save_and_score``, on the test split and each out-of-distribution split; the
supervised router in supervised_router.py uses it too).

Budget rule of the RL routers: ``study.episodes_per_item`` episodes per training item,
so iterations = max(study.min_iterations, ceil(episodes_per_item * size /
train.train_batch_size)); every size sees each item about equally often. Each trial
samples in its own process (no extra rollout workers: trials are the parallelism) and
asks the shared reasoner actors, whose memo answers what another trial already asked.

Imports: outcomes, rl (RLlib lazily), router, study.context.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

from audiorouter.rl.rewards import OutcomeRewardSource, ToolCost
from audiorouter.router.policy import RouterPolicy
from audiorouter.study.context import StudyContext, TrialSpec

RL_ALGORITHM = {"router-ppo": "ppo", "router-group-relative": "group_relative"}


def rl_iterations(ctx: StudyContext, size: int) -> int:
    study, train = ctx.config.study, ctx.config.train
    return max(study.min_iterations, math.ceil(study.episodes_per_item * size / train.train_batch_size))


def train_rl_router(spec: TrialSpec, ctx: StudyContext) -> tuple[RouterPolicy, dict]:
    from audiorouter.rl.trainer import RouterTrainer  # RLlib: only in trials that need it

    cfg = ctx.config
    train = replace(cfg.train, algorithm=RL_ALGORITHM[spec.method], train_size=spec.train_size,
                    iterations=rl_iterations(ctx, spec.train_size), seed=spec.seed, num_env_runners=0)
    train.validate()
    ids = ctx.data.training_ids(spec.train_size, spec.seed)
    outcomes = ctx.outcome_source(ids, ("pool",))
    source = OutcomeRewardSource(outcomes, train.reward, ToolCost(train.tool_cost_weight, ctx.tool_latency_s))
    trainer = RouterTrainer(train, cfg.router, ctx.tools, ctx.router_features(ids), source, ctx.feature_spec)
    try:
        history = trainer.train()
        policy = trainer.policy()
    finally:
        trainer.stop()
    last = history[-1]
    info = {"iterations": train.iterations, "episodes": sum(m.episodes for m in history),
            "final_train_accuracy": last.accuracy, "final_mean_tools": last.mean_tools,
            "source": outcomes.stats()}
    return policy, info


def train_and_score(spec: TrialSpec, ctx: StudyContext, folder: Path) -> tuple[dict[str, list[bool]], dict]:
    """An RL router trial: train, keep the policy in ``folder/policy``, score it on every evaluation split."""
    return save_and_score(*train_rl_router(spec, ctx), ctx, folder)


def save_and_score(policy: RouterPolicy, info: dict, ctx: StudyContext,
                   folder: Path) -> tuple[dict[str, list[bool]], dict]:
    """Every router trial's end: the policy into ``folder/policy``, then its score on
    every evaluation split (the test split and the out-of-distribution ones)."""
    policy.save(folder / "policy")
    correct, split_info = {}, {}
    for split, ids in ctx.data.eval_splits.items():
        correct[split], scored = score_on_split(policy, ctx, split, ids)
        scored[f"{split}_source"] = scored.pop("source")  # test_source, reworded_source, ...
        split_info |= scored if split == "test" else {k if k.endswith("_source") else f"{split}_{k}": v
                                                      for k, v in scored.items()}
    return correct, info | split_info


def score_on_split(policy: RouterPolicy, ctx: StudyContext, split: str, ids: list[str]) -> tuple[list[bool], dict]:
    """Per item of ``split``: is the reasoner right with the router's greedy subset."""
    decisions = policy.route(ctx.router_features(ids).matrix(), ids)
    routed = [tuple(sorted(d.tools)) for d in decisions]
    source = ctx.outcome_source(ids, (split,))
    outcomes = source.outcomes(ids, routed)
    calls = {t: sum(t in s for s in routed) / len(ids) for t in ctx.tools}
    info = {"mean_tools": sum(map(len, routed)) / len(ids), "tool_call_rate": calls, "source": source.stats()}
    return [o.correct_with for o in outcomes], info
