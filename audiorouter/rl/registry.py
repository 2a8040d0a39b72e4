"""The registry of learning algorithms, and the check of a config's learner and reward
names; importable without Ray.

Each learner is registered by a small function that imports its RLlib Learner class when
asked (RLlib is heavy: only a process that trains imports it); the package's ``__init__``
registers the built-in ones, so they are here whenever this module is::

    @register_learner("ppo")
    def ppo_learner() -> type: ...          # returns the Learner class

    get_learner("ppo")                      # the class; learner_names(): every name

Every learner runs under RLlib's PPO algorithm (sampling, minibatches, weight sync).
Rewards have their own registry beside the reward functions (``rewards``).
"""

from __future__ import annotations

from collections.abc import Callable

from audiorouter.config import ConfigError, TrainConfig
from audiorouter.registry import Registry
from audiorouter.rl.rewards import reward_names

LEARNERS: Registry[Callable[[], type]] = Registry("learner")


def register_learner(name: str) -> Callable[[Callable[[], type]], Callable[[], type]]:
    """Decorator: a function that imports and returns a Learner class, available by ``name``."""
    return LEARNERS.register(name)


def get_learner(name: str) -> type:
    """The Learner class of ``name`` (its module imported now)."""
    return LEARNERS.get(name)()


def learner_names() -> list[str]:
    return LEARNERS.names()


def check_train(config: TrainConfig) -> None:
    """ConfigError naming the valid ones when ``train.algorithm`` or ``train.reward`` is
    unknown: a driver calls it before any work starts (the config does not know registries)."""
    if config.algorithm not in learner_names():
        raise ConfigError(f"train.algorithm {config.algorithm!r} unknown; valid: {', '.join(learner_names())}")
    if config.reward not in reward_names():
        raise ConfigError(f"train.reward {config.reward!r} unknown; valid: {', '.join(reward_names())}")
