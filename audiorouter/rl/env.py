"""One-step routing episodes as a gymnasium VectorEnv: one batched reward call per step.

Each episode is one item: the observation is the item's router features, the action a
tool subset (see ``ActionSpace``), the reward what the ``RewardSource`` says; then it
ends. All sub-environments move in lock step, so a step scores every sub-environment
with ONE ``RewardSource.rewards`` call. Autoreset follows gymnasium's NEXT_STEP mode
(what RLlib's EnvRunner expects): the step after the scoring step resets every
sub-environment to new items and makes no reward call.

Items are drawn without replacement, epoch after epoch, from exactly the training set
(``train_size`` unique items). With ``group_size = G`` consecutive blocks of G
sub-environments get the same item, and infos carry a ``group_id`` shared by the
block; the group-relative learner normalises rewards within those groups.

RLlib builds it through ``make_router_env`` with
``env_runners(gym_env_vectorize_mode="vector_entry_point")``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
from gymnasium.vector.utils import batch_space

from audiorouter.rl.rewards import RewardInfo, RewardSource
from audiorouter.router.actions import ActionSpace


@dataclass
class RouterEnvSpec:
    """Everything a rollout worker needs to build its environment; pickles."""

    item_ids: list[str]
    features: np.ndarray  # (train_size, D) float32, rows in item_ids order
    actions: ActionSpace
    reward_source: RewardSource
    group_size: int = 1

    def __post_init__(self) -> None:
        if len(self.item_ids) != len(self.features):
            raise ValueError(f"{len(self.item_ids)} item ids but {len(self.features)} feature rows")
        if len(set(self.item_ids)) != len(self.item_ids):
            raise ValueError("training item ids must be unique")
        if self.group_size < 1:
            raise ValueError(f"group_size must be >= 1, got {self.group_size}")


class RouterVectorEnv(gym.vector.VectorEnv):
    """``num_envs`` one-step routing episodes stepped together."""

    metadata = {"autoreset_mode": gym.vector.AutoresetMode.NEXT_STEP}

    def __init__(self, spec: RouterEnvSpec, num_envs: int, seed: int | None = None) -> None:
        if num_envs % spec.group_size:
            raise ValueError(f"num_envs ({num_envs}) must be a multiple of group_size ({spec.group_size})")
        self.env_spec = spec
        self.num_envs = num_envs
        self.features = np.asarray(spec.features, dtype=np.float32)
        self.single_observation_space = gym.spaces.Box(-np.inf, np.inf, (self.features.shape[1],), np.float32)
        self.single_action_space = spec.actions.gym_space()
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._rng = np.random.default_rng(seed)
        self._queue: list[int] = []  # item indices left in this epoch
        self._current = np.zeros(num_envs, dtype=np.int64)
        self._groups: list[str] = [""] * num_envs
        self._awaiting_reset = True
        self._env_key = uuid.uuid4().hex[:8]  # keeps group ids apart across workers
        self._round = 0
        self.reward_calls = 0  # batched RewardSource calls made

    # ---------------------------------------------------------------- gym API

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self._rng = np.random.default_rng(seed)
            self._queue = []
        self._draw_items()
        return self.features[self._current].copy(), {}

    def step(self, actions):
        if self._awaiting_reset:  # NEXT_STEP autoreset: this step only starts new episodes
            obs, _ = self.reset()
            zeros = np.zeros(self.num_envs, dtype=bool)
            return obs, np.zeros(self.num_envs, dtype=np.float32), zeros, zeros.copy(), {}
        subsets = [self.env_spec.actions.to_tools(a) for a in actions]
        item_ids = [self.env_spec.item_ids[i] for i in self._current]
        results = self.env_spec.reward_source.rewards(item_ids, subsets)  # the one batched call
        self.reward_calls += 1
        if len(results) != self.num_envs:
            raise RuntimeError(f"reward source returned {len(results)} results for {self.num_envs} items")
        self._awaiting_reset = True
        rewards = np.array([r.reward for r in results], dtype=np.float32)
        done = np.ones(self.num_envs, dtype=bool)
        obs = self.features[self._current].copy()
        return obs, rewards, done, np.zeros(self.num_envs, dtype=bool), self._infos(item_ids, results)

    # --------------------------------------------------------------- helpers

    @property
    def item_ids(self) -> list[str]:
        """The items of the current episodes, one per sub-environment."""
        return [self.env_spec.item_ids[i] for i in self._current]

    def _draw_items(self) -> None:
        size = self.env_spec.group_size
        picks = [self._next_index() for _ in range(self.num_envs // size)]
        self._current = np.repeat(np.array(picks, dtype=np.int64), size)
        self._groups = [f"{self._env_key}:{self._round}:{k // size}" for k in range(self.num_envs)]
        self._round += 1
        self._awaiting_reset = False

    def _next_index(self) -> int:
        if not self._queue:
            self._queue = self._rng.permutation(len(self.env_spec.item_ids)).tolist()
        return self._queue.pop()

    def _infos(self, item_ids: list[str], results: list[RewardInfo]) -> dict:
        columns = {
            "item_id": np.array(item_ids, dtype=object),
            "group_id": np.array(self._groups, dtype=object),
            "tools": np.array(["+".join(r.tools_called) for r in results], dtype=object),
            "correct_with": np.array([bool(r.correct_with) for r in results]),
            "correct_without": np.array([bool(r.correct_without) for r in results]),
            "cost": np.array([r.cost for r in results], dtype=np.float32),
        }
        mask = np.ones(self.num_envs, dtype=bool)
        return {**columns, **{f"_{k}": mask for k in columns}}


def make_router_env(config: dict) -> RouterVectorEnv:
    """RLlib env creator: ``config`` is the env config plus ``num_envs`` (vector entry point)."""
    return RouterVectorEnv(config["spec"], num_envs=int(config.get("num_envs", 1)), seed=config.get("seed"))
