"""The LM router's group-relative learner on a tiny random LM: one step raises the
probability of a rewarded subset and moves the adapter only; the back-end's settings
are checked before any work starts."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from lm_router_helpers import lm_router, question_items

from audiorouter.config import ConfigError, RouterConfig, TrainConfig
from audiorouter.rl.lm_learner import sample_groups, update, with_advantages
from audiorouter.rl.registry import check_train


@pytest.fixture(scope="module")
def items():
    return question_items()


def test_a_group_relative_step_raises_a_rewarded_subsets_probability(tiny_causal_lm, items):
    policy = lm_router(tiny_causal_lm, lm_temperature=20.0)  # a flat start: every subset gets sampled
    target = policy.actions.subsets.index(("tempo",))
    prompts = [policy.prompt_ids(item) for item in items]
    before = policy.distribution(items)[:, target]
    optimizer = torch.optim.Adam(policy.trainable_parameters(), lr=1e-2)
    rng = np.random.default_rng(0)
    for _ in range(3):
        groups = sample_groups(policy, prompts, 8, rng)
        groups = with_advantages(groups, [[float(a == target) for a in g.actions] for g in groups])
        stats = update(policy, optimizer, groups, epochs=2, minibatch_items=2, clip=0.2, entropy_coeff=0.0, rng=rng)
    after = policy.distribution(items)[:, target]
    assert np.all(after > before + 0.003), (before, after)
    assert stats["informative_fraction"] > 0
    # only the adapter learns: the LM's own weights are frozen
    trainable = {name for name, p in policy.adapted.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in name for name in trainable)


def test_the_lm_back_end_is_checked_before_any_work():
    with pytest.raises(ConfigError, match="router.backend 'transformer' unknown; valid: mlp, lm"):
        check_train(TrainConfig(), RouterConfig(backend="transformer"))
    with pytest.raises(ConfigError, match="train.algorithm=group_relative"):
        check_train(TrainConfig(algorithm="ppo"), RouterConfig(backend="lm"))
    with pytest.raises(ConfigError, match="group_size >= 2"):
        check_train(TrainConfig(algorithm="group_relative", group_size=1), RouterConfig(backend="lm"))
