"""Group-relative advantages and the learner's loss, checked without a Ray session."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ray.rllib.core.columns import Columns
from ray.rllib.evaluation.postprocessing import Postprocessing

from audiorouter.config import RouterConfig, TrainConfig
from audiorouter.rl.env import RouterEnvSpec
from audiorouter.rl.group_relative import GROUP_EPS, GroupRelativeTorchLearner, group_advantages
from audiorouter.rl.trainer import MODULE_ID, action_space, algorithm_config

TOOLS = ("a", "b", "c")


def test_advantages_are_normalised_within_each_group():
    rewards = np.array([1.0, 0.0, 0.0, 0.0, 5.0, 5.0, 2.0, -1.0])
    groups = ["g1", "g1", "g1", "g1", "g2", "g2", "g3", "g3"]
    adv = group_advantages(rewards, groups)
    g1 = rewards[:4]
    np.testing.assert_allclose(adv[:4], (g1 - g1.mean()) / (g1.std() + GROUP_EPS), rtol=1e-6)
    assert adv[4:6].tolist() == [0.0, 0.0]  # equal rewards: no signal
    np.testing.assert_allclose(adv[6:], [1.0, -1.0], atol=1e-4)
    assert group_advantages(np.array([3.0]), ["alone"]).tolist() == [0.0]


def test_interleaved_groups_give_the_same_advantages():
    rewards = np.array([1.0, 0.0, 0.0, 1.0])
    assert group_advantages(rewards, ["x", "y", "x", "y"]).tolist() == pytest.approx([1, -1, -1, 1], abs=1e-3)


@pytest.fixture
def learner_and_episodes(tiny_task):
    from ray.rllib.env.single_agent_env_runner import SingleAgentEnvRunner

    features, source = tiny_task
    train = TrainConfig(algorithm="group_relative", train_size=24, num_env_runners=0, num_envs_per_env_runner=8,
                        train_batch_size=32, minibatch_size=32, num_epochs=1, group_size=4, entropy_coeff=0.05)
    spec = RouterEnvSpec(features.item_ids, features.matrix(), action_space(RouterConfig(), TOOLS), source, 4)
    config = algorithm_config(train, RouterConfig(), spec)
    runner = SingleAgentEnvRunner(config=config)
    episodes = runner.sample(num_timesteps=32)
    learner = config.build_learner(env=runner.env)
    learner.build()
    assert isinstance(learner, GroupRelativeTorchLearner)
    yield learner, episodes, config
    runner.stop()


def test_connector_writes_group_advantages_in_batch_order(learner_and_episodes):
    learner, episodes, _ = learner_and_episodes
    batch = learner._learner_connector(rl_module=learner.module, batch={}, episodes=episodes, shared_data={},
                                       metrics=learner.metrics)[MODULE_ID]
    returns = np.array([e.get_return() for e in episodes])
    groups = [e.get_infos(-1)["group_id"] for e in episodes]
    np.testing.assert_allclose(batch[Columns.REWARDS].numpy(), returns)
    np.testing.assert_allclose(batch[Postprocessing.ADVANTAGES].numpy(), group_advantages(returns, groups))


def test_loss_matches_its_docstring(learner_and_episodes):
    learner, episodes, config = learner_and_episodes
    batch = learner._learner_connector(rl_module=learner.module, batch={}, episodes=episodes, shared_data={},
                                       metrics=learner.metrics)[MODULE_ID]
    module = learner.module[MODULE_ID]
    fwd = module.forward_train(batch)
    loss = learner.compute_loss_for_module(module_id=MODULE_ID, config=config, batch=batch, fwd_out=fwd)
    dist = torch.distributions.Categorical(logits=fwd[Columns.ACTION_DIST_INPUTS])
    ratio = torch.exp(dist.log_prob(batch[Columns.ACTIONS]) - batch[Columns.ACTION_LOGP])
    adv = batch[Postprocessing.ADVANTAGES]
    expected = -torch.min(ratio * adv, ratio.clamp(0.8, 1.2) * adv).mean() - 0.05 * dist.entropy().mean()
    assert torch.allclose(loss, expected, atol=1e-6)
    assert torch.allclose(ratio, torch.ones_like(ratio), atol=1e-5)  # sampled by these very weights


def test_an_update_moves_the_router_and_leaves_the_critic(learner_and_episodes):
    learner, episodes, _ = learner_and_episodes
    module = learner.module[MODULE_ID]
    router = [p.detach().clone() for p in module.router.parameters()]
    critic = [p.detach().clone() for p in module.critic.parameters()]
    learner.update(episodes=episodes, num_epochs=1, minibatch_size=32)
    assert any(not torch.equal(a, b) for a, b in zip(router, module.router.parameters(), strict=True))
    assert all(torch.equal(a, b) for a, b in zip(critic, module.critic.parameters(), strict=True))
