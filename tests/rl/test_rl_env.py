"""The routing VectorEnv: lock-step one-step episodes, one batched reward call per step."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from gymnasium.wrappers.vector import DictInfoToList

from audiorouter.config import RouterConfig, TrainConfig
from audiorouter.rl.env import RouterEnvSpec, RouterVectorEnv
from audiorouter.rl.trainer import action_space, algorithm_config
from audiorouter.router.actions import ActionSpace

TOOLS = ("a", "b", "c")


def _env(tiny_task, num_envs=8, group_size=1, seed=0) -> RouterVectorEnv:
    features, source = tiny_task
    spec = RouterEnvSpec(features.item_ids, features.matrix(), ActionSpace(TOOLS, "subsets", 2), source, group_size)
    return RouterVectorEnv(spec, num_envs=num_envs, seed=seed)


def test_a_step_scores_every_sub_env_with_one_call_then_autoresets(tiny_task):
    env = _env(tiny_task)
    source = env.env_spec.reward_source.outcome_source  # the stand-in
    obs, _ = env.reset()
    assert obs.shape == (8, 5) and obs.dtype == np.float32
    ids = env.item_ids
    right = [env.env_spec.actions.to_action((source.required[i],)) for i in ids]
    obs, reward, terminated, truncated, infos = env.step(np.array(right))
    assert source.calls == 1 and source.items_scored == 8
    assert reward.tolist() == [1.0] * 8 and terminated.all() and not truncated.any()
    assert list(infos["item_id"]) == ids and infos["correct_with"].all()
    obs, reward, terminated, _, infos = env.step(np.zeros(8, dtype=np.int64))  # the autoreset step
    assert source.calls == 1 and infos == {} and not terminated.any() and not reward.any()
    assert env.reward_calls == 1


def test_items_are_drawn_without_replacement_epoch_by_epoch(tiny_task):
    env = _env(tiny_task)
    env.reset(seed=1)
    seen = Counter()
    for _ in range(3):  # 3 rounds x 8 sub-envs = one epoch of 24 items
        seen.update(env.item_ids)
        env.step(np.zeros(8, dtype=np.int64))
        env.step(np.zeros(8, dtype=np.int64))
    assert set(seen) == set(env.env_spec.item_ids) and set(seen.values()) == {1}


def test_seeded_resets_repeat_the_item_order(tiny_task):
    first, second = _env(tiny_task), _env(tiny_task)
    first.reset(seed=7)
    second.reset(seed=7)
    assert first.item_ids == second.item_ids


def test_groups_share_an_item_and_a_group_id(tiny_task):
    env = _env(tiny_task, num_envs=8, group_size=4)
    env.reset(seed=0)
    ids = env.item_ids
    assert ids[:4] == [ids[0]] * 4 and ids[4:] == [ids[4]] * 4 and ids[0] != ids[4]
    *_, infos = env.step(np.arange(8) % 7)
    groups = list(infos["group_id"])
    assert len(set(groups[:4])) == 1 and len(set(groups[4:])) == 1 and groups[0] != groups[4]
    env.step(np.zeros(8, dtype=np.int64))
    *_, later = env.step(np.zeros(8, dtype=np.int64))
    assert not set(later["group_id"]) & set(groups)  # a new round, new groups
    with pytest.raises(ValueError, match="multiple of group_size"):
        _env(tiny_task, num_envs=6, group_size=4)


def test_infos_convert_to_one_dict_per_sub_env(tiny_task):
    env = DictInfoToList(_env(tiny_task, num_envs=4))
    env.reset(seed=0)
    *_, infos = env.step(np.zeros(4, dtype=np.int64))
    assert len(infos) == 4 and infos[0]["tools"] == "" and "group_id" in infos[0]


def test_rllib_env_runner_makes_one_reward_call_per_vector_step(tiny_task):
    """RLlib's SingleAgentEnvRunner builds our VectorEnv and steps it (no Ray session needed)."""
    from ray.rllib.env.single_agent_env_runner import SingleAgentEnvRunner

    features, source = tiny_task
    train = TrainConfig(train_size=24, num_env_runners=0, num_envs_per_env_runner=8, train_batch_size=32,
                        minibatch_size=32)
    spec = RouterEnvSpec(features.item_ids, features.matrix(), action_space(RouterConfig(), TOOLS), source)
    runner = SingleAgentEnvRunner(config=algorithm_config(train, RouterConfig(), spec))
    episodes = runner.sample(num_timesteps=32)
    env = runner.env.unwrapped
    assert isinstance(env, RouterVectorEnv)
    assert [len(e) for e in episodes] == [1] * 32
    assert env.reward_calls == 32 // 8
    assert env.env_spec.reward_source.outcome_source.calls == 4  # the worker's own (pickled) copy of the source
    runner.stop()
