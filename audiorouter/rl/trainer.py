"""Router training on RLlib's new API stack: build, then per iteration sample and learn.

    items = pick_training_items(iter_items(cfg.data.dir, "train"), cfg.train.train_size, cfg.train.seed)
    features = featurize(items, FeatureSpec(n_mels=cfg.router.n_mels), cfg.router.feature_cache_dir)
    trainer = RouterTrainer(cfg.train, cfg.router, tools, features, reward_source)
    for _ in range(cfg.train.iterations):
        metrics = trainer.train_iteration()          # IterationMetrics
    trainer.save("runs/x/checkpoints/iter-30")      # RLlib checkpoint + policy + counters
    policy = trainer.policy()                        # RouterPolicy, plain torch
    trainer.stop()          # later: RouterTrainer(...same args...).restore(checkpoint) resumes

``pick_training_items`` is in ``audiorouter.data.selection``.

EnvRunners are the rollout workers (``train.num_env_runners``; each steps
``num_envs_per_env_runner`` one-step episodes and scores them with one batched
``RewardSource.rewards`` call); the learner runs in the driver (``num_learners = 0``)
or as its own actor(s). Both algorithms run under RLlib's PPO algorithm: ``ppo``
with PPO's learner and value baseline, ``group_relative`` with
``GroupRelativeTorchLearner``. ``train.seed`` seeds workers, learner and item order.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path

from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.core.rl_module.rl_module import RLModuleSpec
from ray.tune.registry import register_env

from audiorouter.config import RouterConfig, TrainConfig
from audiorouter.contracts import AudioQAItem
from audiorouter.features import FeatureSpec, ItemFeatures, featurize
from audiorouter.rl.env import RouterEnvSpec, make_router_env
from audiorouter.rl.metrics import IterationMetrics, RouterMetricsCallback
from audiorouter.rl.module import RouterRLModule, router_net_state
from audiorouter.rl.registry import get_learner
from audiorouter.rl.rewards import RewardSource
from audiorouter.router.actions import ActionSpace
from audiorouter.router.policy import RouterNet, RouterPolicy, feature_stats

log = logging.getLogger(__name__)
CHECKPOINT_FILES = ("algorithm", "policy", "trainer.json")
MODULE_ID = "default_policy"
ENV_NAME = "audiorouter-router"


def action_space(router: RouterConfig, tools: Sequence[str]) -> ActionSpace:
    return ActionSpace(tuple(tools), router.action_space, router.max_tools_per_call)


def algorithm_config(train: TrainConfig, router: RouterConfig, spec: RouterEnvSpec) -> PPOConfig:
    """The RLlib config: env, rollout workers, learner, module, callbacks, seed."""
    register_env(ENV_NAME, make_router_env)  # visible to every worker of this Ray session
    mean, std = feature_stats(spec.features)
    runners = max(1, train.num_env_runners)
    model_config = {
        "num_logits": spec.actions.num_logits,
        "hidden_sizes": list(router.hidden_sizes),
        "action_kind": spec.actions.kind,
        "feature_mean": mean,
        "feature_std": std,
    }
    return (
        PPOConfig()
        .environment(env=ENV_NAME, env_config={"spec": spec})
        .env_runners(
            num_env_runners=train.num_env_runners,
            num_envs_per_env_runner=train.num_envs_per_env_runner,
            gym_env_vectorize_mode="vector_entry_point",
            rollout_fragment_length=train.train_batch_size // (runners * train.num_envs_per_env_runner),
            num_cpus_per_env_runner=train.cpus_per_env_runner,
            custom_resources_per_env_runner=dict(train.env_runner_resources),
            sample_timeout_s=train.sample_timeout_s,
        )
        .learners(
            num_learners=train.num_learners,
            num_gpus_per_learner=train.num_gpus_per_learner,
            custom_resources_per_learner=dict(train.learner_resources),
            learner_class=get_learner(train.algorithm),
        )
        .training(
            lr=train.lr,
            train_batch_size_per_learner=train.train_batch_size // max(1, train.num_learners),
            minibatch_size=train.minibatch_size,
            num_epochs=train.num_epochs,
            entropy_coeff=train.entropy_coeff,
            clip_param=train.clip_param,
            gamma=1.0,
            lambda_=1.0,
        )
        .rl_module(rl_module_spec=RLModuleSpec(module_class=RouterRLModule, model_config=model_config))
        .fault_tolerance(restart_failed_env_runners=True, delay_between_env_runner_restarts_s=train.restart_delay_s)
        .callbacks(RouterMetricsCallback)
        .debugging(seed=train.seed)
    )


def build_router_trainer(train: TrainConfig, router: RouterConfig, tools: Sequence[str], items: Sequence[AudioQAItem],
                         reward_source: RewardSource, feature_cache_dir: str | None) -> RouterTrainer:
    """A ``RouterTrainer`` over the items' features (computed, or read from ``feature_cache_dir``)."""
    spec = FeatureSpec(n_mels=router.n_mels)
    return RouterTrainer(train, router, tools, featurize(list(items), spec, feature_cache_dir), reward_source, spec)


class RouterTrainer:
    """One training run of the router; see the module docstring."""

    def __init__(
        self,
        train: TrainConfig,
        router: RouterConfig,
        tools: Sequence[str],
        features: ItemFeatures,
        reward_source: RewardSource,
        feature_spec: FeatureSpec | None = None,
    ) -> None:
        if len(features.item_ids) != train.train_size:
            raise ValueError(f"training set has {len(features.item_ids)} items; train.train_size is {train.train_size}")
        self.train_cfg, self.router_cfg = train, router
        self.feature_spec = feature_spec or FeatureSpec(n_mels=router.n_mels)
        self.spec = RouterEnvSpec(
            item_ids=list(features.item_ids),
            features=features.matrix(),
            actions=action_space(router, tools),
            reward_source=reward_source,
            group_size=train.group_size if train.algorithm == "group_relative" else 1,
        )
        self.algo = algorithm_config(train, router, self.spec).build_algo()
        self.iteration = 0
        self.seen: set[str] = set()

    @property
    def actions(self) -> ActionSpace:
        return self.spec.actions

    def train_iteration(self) -> IterationMetrics:
        """One RLlib iteration: ``train_batch_size`` episodes sampled, then one update.

        When no rollout worker answered (all lost with their node), the round sampled
        nothing; it is not counted, and is tried again once replacements had time to start
        (``train.restart_delay_s``), for at most ``train.sample_timeout_s``: every counted
        iteration learns from a full batch. Before each retry the reward source opens what
        the workers open (``check_ready``): a damaged state file ends the run with its name."""
        start = time.perf_counter()
        empty_rounds = 0
        while True:
            result = self.algo.train()
            metrics = IterationMetrics.from_result(result, self.iteration + 1, self.seen, self.actions.tools,
                                                   time.perf_counter() - start)
            if metrics.episodes or not self.train_cfg.num_env_runners:
                break
            empty_rounds += 1
            # a cause that will not go away (a damaged memo) stops the run here with its
            # message, instead of rollout workers restarted forever
            self.spec.reward_source.check_ready()
            if time.perf_counter() - start > self.train_cfg.sample_timeout_s:
                raise RuntimeError(f"no rollout worker sampled for {self.train_cfg.sample_timeout_s:.0f} s "
                                   f"({empty_rounds} empty rounds)")
            log.warning("iteration %d sampled nothing (%d of %d rollout workers healthy); retrying in %.0f s",
                        self.iteration + 1, self.algo.env_runner_group.num_healthy_remote_env_runners(),
                        self.train_cfg.num_env_runners, self.train_cfg.restart_delay_s)
            time.sleep(self.train_cfg.restart_delay_s)
        self.iteration += 1
        metrics.empty_rounds = empty_rounds
        runners = self.algo.env_runner_group
        if runners is not None:
            metrics.healthy_env_runners = runners.num_healthy_remote_env_runners()
            metrics.env_runner_restarts = runners.num_remote_worker_restarts()
        return metrics

    def train(self, iterations: int | None = None) -> list[IterationMetrics]:
        return [self.train_iteration() for _ in range(iterations or self.train_cfg.iterations)]

    def policy(self) -> RouterPolicy:
        """The current router as a plain torch ``RouterPolicy`` (from the learner's weights)."""
        state = self.algo.learner_group.get_weights([MODULE_ID])[MODULE_ID]
        net = RouterNet(self.spec.features.shape[1], self.actions.num_logits, self.router_cfg.hidden_sizes)
        net.load_state_dict(router_net_state(state))
        net.eval()
        return RouterPolicy(net, self.actions, self.feature_spec, tuple(self.router_cfg.hidden_sizes))

    def save(self, directory: str | Path) -> Path:
        """``algorithm/`` (RLlib checkpoint), ``policy/`` (RouterPolicy), ``trainer.json``."""
        out = Path(directory).resolve()
        out.mkdir(parents=True, exist_ok=True)
        self.algo.save_to_path(out / "algorithm")
        self.policy().save(out / "policy")
        state = {"iteration": self.iteration, "seen": sorted(self.seen)}
        (out / "trainer.json").write_text(json.dumps(state))
        return out

    def restore(self, directory: str | Path) -> None:
        """Continue from ``save(directory)``: weights, optimiser, iteration count, items seen."""
        src = Path(directory).resolve()
        self.algo.restore_from_path(src / "algorithm")
        state = json.loads((src / "trainer.json").read_text())
        self.iteration, self.seen = int(state["iteration"]), set(state["seen"])

    def stop(self) -> None:
        self.algo.stop()
