"""The LM router's trainer on a Ray actor of its own (``router.num_gpus`` > 0): the router
LM, its adapter and the learner live where Ray places a GPU, while the driver keeps the
run (metrics, MLflow, checkpoints, evaluation) as it does for an in-process trainer.

    trainer = RemoteLMRouterTrainer(cfg.train, cfg.router, tools, items, reward_source)
    trainer.train_iteration()            # on the actor; IterationMetrics come back
    trainer.save("runs/x/checkpoints/iter-3")   # the actor's files, written by the driver
    trainer.policy().route_items(items)  # decisions computed on the actor

The actor may run on another node, so checkpoints travel as bytes (the adapter, the
optimiser's state and the trainer's counters: megabytes) and are written where the
driver runs, and restored the same way. The reward source pickles small and asks the
named reasoner actors from wherever it runs, as in RLlib's env runners.

Imports: config, contracts, rl.lm_trainer, router.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

import ray

from audiorouter.config import RouterConfig, TrainConfig
from audiorouter.contracts import AudioQAItem, RoutingDecision
from audiorouter.rl.lm_trainer import LMRouterTrainer, check_lm_training
from audiorouter.rl.metrics import IterationMetrics
from audiorouter.rl.rewards import RewardSource
from audiorouter.router.actions import ActionSpace
from audiorouter.router.lm_policy import PROMPTED, PromptedRouter


class LMRouterTrainerActor(LMRouterTrainer):
    """``LMRouterTrainer`` with what a driver elsewhere needs: its checkpoint as bytes, and
    decisions (trained or prompted) for evaluation."""

    def checkpoint_files(self) -> dict[str, bytes]:
        with tempfile.TemporaryDirectory() as tmp:
            return read_files(self.save(tmp))

    def restore_files(self, files: dict[str, bytes]) -> int:
        with tempfile.TemporaryDirectory() as tmp:
            write_files(files, Path(tmp))
            self.restore(tmp)
        return self.iteration

    def route(self, items: list[AudioQAItem], prompted: bool) -> list[RoutingDecision]:
        return (PromptedRouter(self.router) if prompted else self.router).route_items(items)


def read_files(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` by its relative path (a checkpoint: megabytes)."""
    return {str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file()}


def write_files(files: dict[str, bytes], directory: Path) -> Path:
    for name, data in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_bytes(data)
    return directory


class RemoteLMRouterTrainer:
    """An ``LMRouterTrainer`` on an actor with ``router.num_gpus`` GPUs; the same methods."""

    def __init__(self, train: TrainConfig, router: RouterConfig, tools: Sequence[str], items: Sequence[AudioQAItem],
                 reward_source: RewardSource) -> None:
        check_lm_training(train)
        self.actions = ActionSpace(tuple(tools), router.action_space, router.max_tools_per_call)
        actor = ray.remote(LMRouterTrainerActor).options(num_gpus=router.num_gpus, num_cpus=1)
        self.actor = actor.remote(train, router, list(tools), list(items), reward_source)
        ray.get(self.actor.__ray_ready__.remote())  # what the trainer refuses (a prompt too long) surfaces here
        self.iteration = 0
        self.train_cfg = train

    def train_iteration(self) -> IterationMetrics:
        metrics = ray.get(self.actor.train_iteration.remote())
        self.iteration = metrics.iteration
        return metrics

    def train(self, iterations: int | None = None) -> list[IterationMetrics]:
        return [self.train_iteration() for _ in range(iterations or self.train_cfg.iterations)]

    def policy(self) -> RemoteLMRouter:
        return RemoteLMRouter(self.actor, self.actions)

    def save(self, directory: str | Path) -> Path:
        out = Path(directory).resolve()
        out.mkdir(parents=True, exist_ok=True)
        return write_files(ray.get(self.actor.checkpoint_files.remote()), out)

    def restore(self, directory: str | Path) -> None:
        self.iteration = ray.get(self.actor.restore_files.remote(read_files(Path(directory).resolve())))

    def stop(self) -> None:
        ray.kill(self.actor)


class RemoteLMRouter:
    """The actor's router as evaluation uses a router: greedy decisions, and its prompted
    self (the adapter switched off) as a training-free line."""

    def __init__(self, actor, actions: ActionSpace, prompted: bool = False) -> None:
        self.actor, self.actions, self.prompted = actor, actions, prompted

    def route_items(self, items: Sequence[AudioQAItem], cache_dir: str | None = None) -> list[RoutingDecision]:
        return ray.get(self.actor.route.remote(list(items), self.prompted))

    def training_free_lines(self) -> dict[str, RemoteLMRouter]:
        return {} if self.prompted else {PROMPTED: RemoteLMRouter(self.actor, self.actions, prompted=True)}
