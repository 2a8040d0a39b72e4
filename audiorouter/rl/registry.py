"""Names the config may use, importable without Ray: rewards and learning algorithms.

``REWARDS`` maps a name to ``(correct_with, correct_without) -> float`` (see rewards).
``ALGORITHMS`` maps a name to the ``"module:Class"`` of the RLlib Learner it trains
with; every one runs under RLlib's PPO algorithm (sampling, minibatches, weight sync).
"""

from __future__ import annotations

import importlib

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


__all__ = ["ALGORITHMS", "REWARDS", "learner_class", "register_reward"]
