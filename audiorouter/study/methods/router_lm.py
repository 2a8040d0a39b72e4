"""Study trials of the LM router (``router-lm``, router/lm_policy.py): a small causal LM
that reads each question, its choices and the tools' descriptions and scores every
allowed subset's reply, its LoRA adapter trained group-relatively from the same outcome
reward as the RL routers (rl/lm_trainer.py).

Its N=0 trial is the prompted router: the LM with a new adapter, which has no effect
until it is trained. That point is the same for every seed (nothing of it is drawn), and
the study reads it as the ``prompted-router`` constant line beside no tools, all tools
and the best single tool (study.results.prompted_line): a training-free policy that
joins the line the targets are set from.

Budget rule as the RL routers' (``rl_iterations``): ``study.episodes_per_item`` episodes
per training item; each iteration takes ``train_batch_size // group_size`` items and
samples ``train.group_size`` subsets of each. The router settings (``router.lm_*``,
``router.lora_*``) come from the study's config; the learner is always group-relative.
The LM runs in the trial's process: on its GPU when the trial has one
(``study.trial_gpus``, ``router.lm_device: auto``).

Imports: config, rl, router, study.context, study.methods.
"""

from __future__ import annotations

from pathlib import Path

import torch

from audiorouter.rl.lm_trainer import LMRouterTrainer
from audiorouter.router.actions import ActionSpace
from audiorouter.router.lm_policy import LMRouterPolicy
from audiorouter.study.context import StudyContext, TrialSpec
from audiorouter.study.methods.catalog import Scored, training_cost
from audiorouter.study.methods.router import rl_trial_info, rl_trial_inputs, save_and_score


def train_and_score(spec: TrialSpec, ctx: StudyContext, folder: Path) -> Scored:
    """An LM router trial: the prompted router at N=0, else the adapter trained on the
    seed's first N pool items; the adapter kept in ``folder/policy``, scored on every split."""
    if spec.train_size == 0:
        return save_and_score(prompted_router(ctx), {"untrained": True, "training_cost": training_cost(0, 0)},
                              ctx, folder)
    return save_and_score(*train_lm_router(spec, ctx), ctx, folder)


def prompted_router(ctx: StudyContext) -> LMRouterPolicy:
    """The router LM with a new adapter (zero effect): what prompting it alone decides."""
    cfg = ctx.config
    with torch.random.fork_rng():
        torch.manual_seed(0)  # the adapter's A is random (B = 0): the same file for every seed
        return LMRouterPolicy.build(cfg.router, ActionSpace(tuple(ctx.tools), cfg.router.action_space,
                                                            cfg.router.max_tools_per_call))


def train_lm_router(spec: TrialSpec, ctx: StudyContext) -> tuple[LMRouterPolicy, dict]:
    run = rl_trial_inputs(spec, ctx, "group_relative")
    items = ctx.items(run.ids, ctx.data.pool_splits)
    trainer = LMRouterTrainer(run.train, ctx.config.router, ctx.tools, items, run.source)
    history = trainer.train()
    return trainer.policy(), rl_trial_info(run.train.iterations, history, run.outcomes.stats())
