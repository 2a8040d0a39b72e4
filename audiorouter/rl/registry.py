"""The registries of rewards and learning algorithms, importable without Ray.

``REWARDS`` maps a name to ``(correct_with, correct_without) -> float`` (see rewards).
``ALGORITHMS`` maps a name to the ``"module:Class"`` of the RLlib Learner it trains
with; every one runs under RLlib's PPO algorithm (sampling, minibatches, weight sync).
"""

from __future__ import annotations

import importlib

from audiorouter.config import ConfigError, TrainConfig
from audiorouter.rl.rewards import REWARDS, register_reward

ALGORITHMS: dict[str, str] = {
    "ppo": "ray.rllib.algorithms.ppo.torch.ppo_torch_learner:PPOTorchLearner",
    "group_relative": "audiorouter.rl.group_relative:GroupRelativeTorchLearner",
}


def learner_class(algorithm: str) -> type:
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm {algorithm!r} unknown; valid: {', '.join(ALGORITHMS)}")
    module, _, name = ALGORITHMS[algorithm].partition(":")
    return getattr(importlib.import_module(module), name)


def check_train(config: TrainConfig) -> None:
    """ConfigError naming the valid ones when ``train.algorithm`` or ``train.reward`` is
    unknown: a driver calls it before any work starts (the config does not know registries)."""
    if config.algorithm not in ALGORITHMS:
        raise ConfigError(f"train.algorithm {config.algorithm!r} unknown; valid: {', '.join(ALGORITHMS)}")
    if config.reward not in REWARDS:
        raise ConfigError(f"train.reward {config.reward!r} unknown; valid: {', '.join(REWARDS)}")


__all__ = ["ALGORITHMS", "REWARDS", "check_train", "learner_class", "register_reward"]
