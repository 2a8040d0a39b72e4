"""Training of the LM router (``router.backend: lm``): the same reward, cost and counters
as ``RouterTrainer``, with the group-relative learner of lm_learner.py.

    trainer = LMRouterTrainer(cfg.train, cfg.router, tools, items, reward_source)
    metrics = trainer.train_iteration()       # IterationMetrics, as RouterTrainer's
    trainer.save("runs/x/checkpoints/iter-3") # policy/ (adapter only), optimizer.pt, trainer.json
    trainer.restore(...)                      # adapter, optimiser, iteration, item order, RNGs

Why not RLlib here: its rollout workers each hold a copy of the RLModule and receive the
module's whole state after every update; around a causal LM that is the frozen LM's
weights too (2 GB for the 0.5B preset) per worker per iteration, for a one-step episode
whose every action's probability the learner computes anyway. So one process holds the
LM (on its GPU where it has one: ``router.lm_device``), samples G subsets per item from the
distribution one forward gives, and learns; the parallel work, the tools and the
reasoner behind the ``RewardSource``, runs in their actors as it does for the MLP router.

Each iteration takes ``train_batch_size // group_size`` items in a seeded order that
visits every training item before any repeats, samples ``group_size`` subsets of each,
scores all of them with one ``RewardSource.rewards`` call and updates the adapter for
``num_epochs`` epochs in minibatches of ``minibatch_size // group_size`` items.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from audiorouter.config import ConfigError, RouterConfig, TrainConfig
from audiorouter.contracts import AudioQAItem
from audiorouter.rl.lm_learner import sample_groups, update, with_advantages
from audiorouter.rl.metrics import IterationMetrics
from audiorouter.rl.rewards import RewardSource
from audiorouter.router.actions import ActionSpace
from audiorouter.router.lm_policy import LMRouterPolicy

CHECKPOINT_FILES = ("policy", "optimizer.pt", "trainer.json")


def check_lm_training(train: TrainConfig) -> None:
    """The LM router learns group-relatively: its groups share one forward per item, and a
    PPO value head on the LM is not built (ConfigError naming the setting)."""
    if train.algorithm != "group_relative":
        raise ConfigError(f"router.backend=lm trains with train.algorithm=group_relative, got {train.algorithm!r}")
    if train.group_size < 2:
        raise ConfigError("router.backend=lm needs train.group_size >= 2: a group of one carries no signal")


class LMRouterTrainer:
    """One training run of the LM router; see the module docstring."""

    def __init__(self, train: TrainConfig, router: RouterConfig, tools: Sequence[str], items: Sequence[AudioQAItem],
                 reward_source: RewardSource) -> None:
        check_lm_training(train)
        if len(items) != train.train_size:
            raise ValueError(f"training set has {len(items)} items; train.train_size is {train.train_size}")
        self.train_cfg, self.reward_source = train, reward_source
        torch.manual_seed(train.seed)
        self.router = LMRouterPolicy.build(router, ActionSpace(tuple(tools), router.action_space,
                                                               router.max_tools_per_call))
        self.item_ids = [item.id for item in items]
        self.prompts = {item.id: self.router.prompt_ids(item) for item in items}  # a prompt too long fails here
        self.optimizer = torch.optim.Adam(self.router.trainable_parameters(), lr=router.lm_lr)
        self.rng = np.random.default_rng(train.seed)
        self.iteration, self.seen, self.order = 0, set(), []

    @property
    def actions(self) -> ActionSpace:
        return self.router.actions

    def next_items(self, count: int) -> list[str]:
        """The next ``count`` items of a shuffled pass over the training set (a new pass when one ends)."""
        chosen = []
        while len(chosen) < count:
            if not self.order:
                self.order = self.rng.permutation(len(self.item_ids)).tolist()
            chosen.append(self.item_ids[self.order.pop()])
        return chosen

    def train_iteration(self) -> IterationMetrics:
        cfg, start = self.train_cfg, time.perf_counter()
        size = cfg.group_size
        ids = self.next_items(max(1, cfg.train_batch_size // size))
        groups = sample_groups(self.router, [self.prompts[i] for i in ids], size, self.rng)
        subsets = [self.actions.subsets[a] for group in groups for a in group.actions]
        before = self.reward_source.stats()
        infos = self.reward_source.rewards([i for i in ids for _ in range(size)], subsets)
        rewards = [[info.reward for info in infos[k * size : (k + 1) * size]] for k in range(len(ids))]
        learner = update(self.router, self.optimizer, with_advantages(groups, rewards), epochs=cfg.num_epochs,
                         minibatch_items=max(1, cfg.minibatch_size // size), clip=cfg.clip_param,
                         entropy_coeff=cfg.entropy_coeff, rng=self.rng)
        self.iteration += 1
        self.seen.update(ids)
        after = self.reward_source.stats()
        calls = Counter(t for info in infos for t in info.tools_called)
        n = len(infos)
        return IterationMetrics(
            iteration=self.iteration, episodes=n, mean_reward=sum(i.reward for i in infos) / n,
            accuracy=sum(i.correct_with for i in infos) / n, no_tool_accuracy=sum(i.correct_without for i in infos) / n,
            mean_tools=sum(len(i.tools_called) for i in infos) / n, mean_cost=sum(i.cost for i in infos) / n,
            tool_call_rate={t: calls[t] / n for t in self.actions.tools}, unique_items_seen=len(self.seen),
            reward_calls=1, env_steps_per_s=n / max(time.perf_counter() - start, 1e-9),
            source_stats={k: v - before.get(k, 0.0) for k, v in after.items()}, learner=learner)

    def train(self, iterations: int | None = None) -> list[IterationMetrics]:
        return [self.train_iteration() for _ in range(iterations or self.train_cfg.iterations)]

    def policy(self) -> LMRouterPolicy:
        return self.router

    def save(self, directory: str | Path) -> Path:
        out = Path(directory).resolve()
        out.mkdir(parents=True, exist_ok=True)
        self.router.save(out / "policy")
        torch.save(self.optimizer.state_dict(), out / "optimizer.pt")
        state = {"iteration": self.iteration, "seen": sorted(self.seen), "order": self.order,
                 "rng": self.rng.bit_generator.state}
        (out / "trainer.json").write_text(json.dumps(state))
        return out

    def restore(self, directory: str | Path) -> None:
        """Continue from ``save(directory)``: adapter, optimiser, counters, item order, sampling RNG."""
        from peft import set_peft_model_state_dict  # heavy: only where an LM router is used
        from safetensors.torch import load_file

        src = Path(directory).resolve()
        weights = load_file(src / "policy" / "adapter" / "adapter_model.safetensors")
        set_peft_model_state_dict(self.router.adapted, weights)
        self.optimizer.load_state_dict(torch.load(src / "optimizer.pt", weights_only=True))
        state = json.loads((src / "trainer.json").read_text())
        self.iteration, self.seen, self.order = int(state["iteration"]), set(state["seen"]), list(state["order"])
        self.rng.bit_generator.state = state["rng"]

    def stop(self) -> None:
        """Nothing to stop: the LM lives in this process."""
