"""Tune runs the next trial in a finished trial's process (``study.reuse_trial_actors``):
every trial must score exactly as it does in a process of its own, item by item."""

from __future__ import annotations

import pytest

from audiorouter.config import load_config
from audiorouter.study.runner import StudyRun

pytestmark = pytest.mark.slow


def sweep(root, name: str, reuse: bool) -> tuple[dict, set[int]]:
    """Per trial, the test items it got right; and the processes the trials ran in."""
    cfg = load_config(None, [
        "tools.enabled=[\"tempo\", \"loudness\"]", f"tools.cache_dir={root}/tool_cache", "tools.num_actors=1",
        "reasoner.backend=reference", f"reasoner.memo_path={root}/memo.sqlite", "reasoner.actor_num_cpus=0.25",
        f"router.feature_cache_dir={root}/features", "train.train_batch_size=32", "train.minibatch_size=32",
        "train.num_envs_per_env_runner=16", "train.num_epochs=2", f"run.out_dir={root}/runs",
        f"tracking.tracking_uri={root}/mlflow.db", f"tracking.artifact_dir={root}/mlartifacts",
        f"study.name={name}", f"study.data_dir={root}/data", "study.families=[\"tempo\", \"loudness_compare\"]",
        "study.methods=[\"router-ppo\", \"supervised-router\"]", "study.router_sizes=[4, 8]", "study.seeds=1",
        "study.test_per_family=10", "study.validation_per_family=3", "study.ood_per_family=4", "study.untrained_points=false", "study.episodes_per_item=8",
        "study.min_iterations=1", "study.trial_cpus=0.5", "study.max_concurrent_trials=2",
        f"study.reuse_trial_actors={str(reuse).lower()}", "data.synth.workers=1",
    ])
    run = StudyRun(cfg)
    run.prepare()
    grid = run.sweep()
    results, failed = run.collect()
    assert not failed, failed
    return ({(r.method, r.train_size, r.seed): r.correct for r in results},
            {result.metrics["pid"] for result in grid})


def test_reused_trial_processes_score_every_trial_as_fresh_ones(tmp_path, ray_session):
    fresh, fresh_pids = sweep(tmp_path, "fresh", reuse=False)
    reused, reused_pids = sweep(tmp_path, "reused", reuse=True)
    assert len(fresh) == len(reused) == 4
    assert reused == fresh  # every trial, every test item
    assert len(fresh_pids) == 4  # a process per trial ...
    assert len(reused_pids) <= 2  # ... against one per concurrent slot
