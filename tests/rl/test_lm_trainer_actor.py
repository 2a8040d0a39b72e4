"""The LM router's trainer on a Ray actor of its own (router.num_gpus > 0), on a tiny random
LM: the actor holds the GPUs it asked for, trains exactly as the in-process trainer does,
writes its checkpoints where the driver runs and restores from them, and routes (trained
and prompted) for evaluation. The Ray session declares one logical GPU; the LM runs on
the CPU (router.lm_device), so the placement is tested here and the speed on a GPU
machine (benchmarks/gpu_checks.sh)."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
import ray
import torch
from lm_router_helpers import TOOLS, TempoPays, tempo_training
from ray import cloudpickle

from audiorouter.data.synth import make_item
from audiorouter.rl.lm_trainer import CHECKPOINT_FILES, LMRouterTrainer
from audiorouter.rl.lm_trainer_actor import RemoteLMRouterTrainer
from audiorouter.router.lm_policy import PROMPTED
from audiorouter.router.loading import prompted_lines


@pytest.fixture(scope="module")
def gpu_session():
    """A local Ray session with one logical GPU (no device is needed to place on it)."""
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    ray.init(num_cpus=2, num_gpus=1, include_dashboard=False, log_to_driver=False, configure_logging=False)
    cloudpickle.register_pickle_by_value(sys.modules["lm_router_helpers"])  # workers cannot import the tests
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def items():
    return [make_item("tempo", i, seed=4) for i in range(6)]


def remote(model: str, items) -> RemoteLMRouterTrainer:
    train, router = tempo_training(model, len(items), num_gpus=1, lm_device="cpu")
    return RemoteLMRouterTrainer(train, router, TOOLS, items, TempoPays())


@pytest.mark.usefixtures("gpu_session")
def test_the_actor_trains_saves_restores_and_routes_as_the_in_process_trainer(tiny_causal_lm, items, tmp_path):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the one-CPU actor computes: the same sums, the same samples
    try:
        train, router = tempo_training(tiny_causal_lm, len(items), lm_device="cpu")
        local = LMRouterTrainer(train, router, TOOLS, items, TempoPays())
        prompted = local.policy().route_items(items)
        expected = local.train(3)
        trained = local.policy().route_items(items)
    finally:
        torch.set_num_threads(threads)

    run = remote(tiny_causal_lm, items)
    assert ray.available_resources().get("GPU", 0) == 0  # the actor holds the session's GPU
    got = run.train(2)
    saved = run.save(tmp_path / "iter-2")
    assert all((saved / name).exists() for name in CHECKPOINT_FILES)  # written where the driver runs
    run.stop()

    resumed = remote(tiny_causal_lm, items)
    resumed.restore(saved)
    assert resumed.iteration == 2
    got.append(resumed.train_iteration())
    for mine, theirs in zip(got, expected, strict=True):
        assert mine.iteration == theirs.iteration
        assert mine.mean_reward == pytest.approx(theirs.mean_reward) and mine.episodes == theirs.episodes
    policy = resumed.policy()
    decisions = policy.route_items(items)
    assert [d.tools for d in decisions] == [d.tools for d in trained]
    np.testing.assert_allclose([d.log_prob for d in decisions], [d.log_prob for d in trained], atol=1e-5)
    lines = policy.training_free_lines()
    assert list(lines) == [PROMPTED] and prompted_lines(router, policy) == {}  # an LM router brings its own
    assert [d.tools for d in lines[PROMPTED].route_items(items)] == [d.tools for d in prompted]
    resumed.stop()
