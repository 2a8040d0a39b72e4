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

Router back-ends (``router.backend``) register how a run trains them, the same way::

    @register_router_backend("lm")
    def lm_backend() -> TrainerBackend: ...   # builds the trainer; names its checkpoint files
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from audiorouter.config import ConfigError, RouterConfig, TrainConfig
from audiorouter.registry import Registry
from audiorouter.rl.rewards import reward_names

LEARNERS: Registry[Callable[[], type]] = Registry("learner")


@dataclass(frozen=True)
class TrainerBackend:
    """How a run trains one router back-end: ``build(train, router, tools, items, reward_source,
    feature_cache_dir)`` gives a trainer (``train_iteration``, ``policy``, ``save``, ``restore``,
    ``stop``, ``iteration``, ``actions``), whose checkpoints hold ``checkpoint_files``; ``check``
    raises the ConfigError of settings it cannot train with, before any work starts."""

    build: Callable[..., Any]
    checkpoint_files: tuple[str, ...]
    check: Callable[[TrainConfig], None] = lambda train: None


ROUTER_BACKENDS: Registry[Callable[[], TrainerBackend]] = Registry("router.backend", ConfigError)


def register_router_backend(name: str) -> Callable[[Callable[[], TrainerBackend]], Callable[[], TrainerBackend]]:
    """Decorator: a function that imports its trainer and returns its ``TrainerBackend``."""
    return ROUTER_BACKENDS.register(name)


def get_router_backend(name: str) -> TrainerBackend:
    return ROUTER_BACKENDS.get(name)()


def router_backend_names() -> list[str]:
    return ROUTER_BACKENDS.names()


def register_learner(name: str) -> Callable[[Callable[[], type]], Callable[[], type]]:
    """Decorator: a function that imports and returns a Learner class, available by ``name``."""
    return LEARNERS.register(name)


def get_learner(name: str) -> type:
    """The Learner class of ``name`` (its module imported now)."""
    return LEARNERS.get(name)()


def learner_names() -> list[str]:
    return LEARNERS.names()


def check_train(config: TrainConfig, router: RouterConfig | None = None) -> None:
    """ConfigError naming the valid ones when ``train.algorithm`` or ``train.reward`` is
    unknown, or what the router back-end cannot train with: a driver calls it before any
    work starts (the config does not know registries)."""
    if config.algorithm not in learner_names():
        raise ConfigError(f"train.algorithm {config.algorithm!r} unknown; valid: {', '.join(learner_names())}")
    if config.reward not in reward_names():
        raise ConfigError(f"train.reward {config.reward!r} unknown; valid: {', '.join(reward_names())}")
    if router is not None:
        if router.backend not in router_backend_names():
            raise ConfigError(f"router.backend {router.backend!r} unknown; valid: {', '.join(router_backend_names())}")
        get_router_backend(router.backend).check(config)
