"""End to end on local Ray: the driver trains, tracks, checkpoints, resumes, survives faults.

A tiny suite (three families, cheap tools), the reference reasoner on named actors.
"""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest
import ray
from memo_helpers import memo_keys
from mlflow.tracking import MlflowClient

from audiorouter.config import load_config
from audiorouter.router.policy import RouterPolicy
from audiorouter.tracking.mlflow_tracker import tracking_uri
from audiorouter.training.driver import TrainingRun


def tiny_config(root, name="tiny", iterations=2, inputs=None, extra=()):
    """``inputs``: the folder of the data, tool cache and features (default ``root``); a
    run given another run's folder reuses its clips and cached tool results. ``extra``:
    more --set lines."""
    inputs = inputs or root
    return load_config(None, [
        f"data.dir={inputs}/data", "data.synth.n=54", "data.synth.families=[tempo, loudness_compare, duration]",
        "data.synth.workers=1", f"tools.cache_dir={inputs}/tool_cache", "tools.enabled=[tempo, loudness, segments]",
        "tools.num_actors=1", f"reasoner.memo_path={root}/memo.sqlite", f"router.feature_cache_dir={inputs}/features",
        "train.train_size=12", f"train.iterations={iterations}", "train.train_batch_size=32",
        "train.minibatch_size=32", "train.num_envs_per_env_runner=8", "train.num_epochs=2",
        f"tracking.tracking_uri={root}/mlflow.db", f"tracking.artifact_dir={root}/artifacts",
        f"run.out_dir={root}/runs", f"run.name={name}", "run.checkpoint_every=1", "run.eval_limit=9", *extra,
    ])


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, ray_session):
    root = tmp_path_factory.mktemp("e2e")
    config = tiny_config(root)
    run = TrainingRun(config)
    report = run.run()
    return root, config, run, report


def test_the_router_learned_something(finished_run):
    _, _, run, _ = finished_run
    first = RouterPolicy.load(run.dir / "checkpoints" / "iter-1" / "policy")
    last = RouterPolicy.load(run.dir / "checkpoints" / "iter-2" / "policy")
    before = [p.detach().numpy() for p in first.net.parameters()]
    after = [p.detach().numpy() for p in last.net.parameters()]
    assert any(not np.allclose(a, b) for a, b in zip(before, after, strict=True))


def test_metrics_and_artifacts_reached_mlflow(finished_run):
    root, config, run, report = finished_run
    client = MlflowClient(tracking_uri(config.tracking))
    mlrun = client.get_run(run.tracker.run_id)
    assert mlrun.info.status == "FINISHED"
    assert mlrun.data.params["train.train_size"] == "12"
    history = client.get_metric_history(run.tracker.run_id, "mean_reward")
    assert [m.step for m in history] == [1, 2]
    for key in ("accuracy", "no_tool_accuracy", "mean_tools", "unique_items_seen", "env_steps_per_s",
                "tool_call_rate/tempo", "eval/trained_router"):
        assert key in mlrun.data.metrics, key
    artifacts = {a.path for a in client.list_artifacts(run.tracker.run_id)}
    assert {"report.json", "learning_curve.png", "tool_usage.png", "checkpoints"} <= artifacts
    assert {p.name for p in report.policies} >= {"no tools", "all tools", "trained router", "oracle routing"}


def test_resume_continues_the_same_run(finished_run):
    root, config, run, _ = finished_run
    more = tiny_config(root, iterations=4)
    resumed = TrainingRun(more, resume=True)
    resumed.run()
    assert resumed.tracker.run_id == run.tracker.run_id
    client = MlflowClient(tracking_uri(more.tracking))
    assert [m.step for m in client.get_metric_history(run.tracker.run_id, "mean_reward")] == [1, 2, 3, 4]
    assert json.loads((run.dir / "state.json").read_text())["iteration"] == 4
    assert len((run.dir / "metrics.jsonl").read_text().splitlines()) == 4


def test_killed_reasoner_actor_and_rollout_worker_are_replaced(finished_run):
    root, _, _, _ = finished_run
    run = TrainingRun(tiny_config(root, name="faults", iterations=3))
    run.build()
    try:
        run.trainer.train_iteration()
        ray.kill(ray.get_actor("reasoner-0"), no_restart=False)  # Ray restarts it (max_restarts)
        for runner in run.trainer.algo.env_runner_group._worker_manager.actors().values():
            ray.kill(runner, no_restart=False)  # a crash: Ray restarts it, RLlib restores its state
        # Rounds while the restarted runner starts (imports, state restore: seconds) sample
        # nothing; they are retried, not counted, so the iteration still learns from a full batch.
        metrics = run.trainer.train_iteration()
        runners = run.trainer.algo.env_runner_group
        healthy, restarts = runners.num_healthy_remote_workers(), runners.num_remote_worker_restarts()
    finally:
        run.trainer.stop()
        run.hosted.stop()
    assert metrics.iteration == 2 and metrics.episodes == run.config.train.train_batch_size
    assert healthy == run.config.train.num_env_runners and restarts >= 1
    assert metrics.healthy_env_runners == healthy and metrics.env_runner_restarts == restarts


def test_rollouts_can_ask_the_reasoner_serve_deployment(finished_run):
    from ray import serve

    root, _, _, _ = finished_run
    config = tiny_config(root, name="served", iterations=1)
    config.reasoner.hosting = "serve"
    run = TrainingRun(config)
    run.build()
    try:
        metrics = run.trainer.train_iteration()
        batches = serve.get_app_handle("reasoner").batches_seen.remote().result()
    finally:
        run.trainer.stop()
        run.hosted.stop()
    assert metrics.episodes == config.train.train_batch_size and sum(batches.values()) > 0
    assert "reasoner" not in serve.status().applications  # stopped with the run


def test_a_tool_that_keeps_crashing_is_disabled_and_the_run_says_so(tmp_path_factory, finished_run):
    from pathlib import Path

    doubles = Path(__file__).resolve().parents[1] / "tool_execution" / "tool_doubles.py"
    root = tmp_path_factory.mktemp("crash")
    config = tiny_config(root, name="crash", iterations=1, inputs=finished_run[0])  # only segfault is computed
    config.tools.enabled = ["tempo", "loudness", "segments", "segfault"]
    config.tools.plugins = [str(doubles)]
    config.tools.max_crashes = 1
    run = TrainingRun(config)
    report = run.run()
    assert "segfault" in report.disabled_tools and "SIGSEGV" in report.disabled_tools["segfault"]
    assert "segfault" not in run.tools, "a disabled tool is no router action"
    assert "tools disabled during the run" in (run.dir / "report.txt").read_text()
    assert json.loads((run.dir / "report.json").read_text())["disabled_tools"] == report.disabled_tools
    mlrun = MlflowClient(tracking_uri(config.tracking)).get_run(run.tracker.run_id)
    assert mlrun.info.status == "FINISHED"
    assert "SIGSEGV" in json.loads(mlrun.data.params["tools.disabled"])["segfault"]



def test_training_goes_on_while_the_memo_service_restarts(tmp_path_factory, finished_run):
    from audiorouter.store.service import NAMESPACE, service_name, stop_service

    root = tmp_path_factory.mktemp("memo-restart")
    config = tiny_config(root, name="memo-restart", iterations=8, inputs=finished_run[0])  # its own memo
    config.train.train_size = 24  # 24 items x 8 subsets: new outcomes keep coming after the restart
    config.reasoner.memo_store = "service"
    config.run.local_memo = False  # every episode reaches the reasoner actor and its memo
    metrics = root / "runs" / "memo-restart" / "metrics.jsonl"
    killed: dict = {}

    def kill_the_service_mid_run() -> None:
        deadline = time.monotonic() + 600
        while not (metrics.exists() and len(metrics.read_text().splitlines()) >= 2):
            if time.monotonic() > deadline:
                return
            time.sleep(0.05)
        killed["acknowledged"] = memo_keys(root / "memo.sqlite")  # committed: the service acknowledged them
        handle = ray.get_actor(service_name("outcomes"), namespace=NAMESPACE)
        killed["pid"] = ray.get(handle.info.remote())["pid"]
        ray.kill(handle, no_restart=False)  # Ray restarts it; callers retry meanwhile

    killer = threading.Thread(target=kill_the_service_mid_run, daemon=True)
    killer.start()
    try:
        run = TrainingRun(config)
        run.run()
        killer.join(timeout=60)
        handle = ray.get_actor(service_name("outcomes"), namespace=NAMESPACE)
        pid_after = ray.get(handle.info.remote())["pid"]
    finally:
        stop_service("outcomes")
    assert "pid" in killed and pid_after != killed["pid"], "the service was killed and restarted mid-run"
    lines = [json.loads(line) for line in metrics.read_text().splitlines()]
    assert [m["iteration"] for m in lines] == list(range(1, 9))
    assert all(m["episodes"] == config.train.train_batch_size for m in lines)
    final = memo_keys(root / "memo.sqlite")
    assert killed["acknowledged"] <= final, "an acknowledged outcome was lost"
    assert len(final) > len(killed["acknowledged"]), "outcomes were written after the restart"


def test_the_lm_router_trains_resumes_and_evaluates_through_the_same_driver(tiny_causal_lm, finished_run):
    """router.backend=lm on a tiny random LM: the same data, tools, reasoner actors, MLflow
    run and checkpoints; the adapter changes, a resumed run continues it, and the saved
    router routes the evaluation items the run reported."""
    from audiorouter.router.loading import load_router

    root, _, _, _ = finished_run
    lm = ["router.backend=lm", f"router.lm_model={tiny_causal_lm}", "router.lm_temperature=10", "router.lm_lr=0.01",
          "train.algorithm=group_relative", "train.group_size=4", "train.train_batch_size=16",
          "train.minibatch_size=8"]

    def lm_config(iterations):
        return tiny_config(root, name="lm-router", iterations=iterations, extra=lm)

    first = TrainingRun(lm_config(2))
    report = first.run()
    checkpoints = first.dir / "checkpoints"
    assert {p.name for p in checkpoints.iterdir()} == {"iter-1", "iter-2"}
    assert not (checkpoints / "iter-2" / "algorithm").exists()  # no RLlib state: the adapter is the policy
    one, two = (load_router(checkpoints / name) for name in ("iter-1", "iter-2"))
    items = first.eval_items
    assert not np.allclose(one.distribution(items), two.distribution(items))
    routed = {d.item_id: tuple(sorted(d.tools)) for d in two.route_items(items)}
    trained = next(p for p in report.policies if p.name == "trained router")
    assert trained.tools_per_item == pytest.approx(np.mean([len(routed[i.id]) for i in items]))
    # the prompted router (the LM without its adapter) is reported beside the constant lines
    prompted = {d.item_id: tuple(sorted(d.tools)) for d in two.training_free_lines()["prompted router"].route_items(items)}
    row = next(p for p in report.policies if p.name == "prompted router")
    assert row.tools_per_item == pytest.approx(np.mean([len(prompted[i.id]) for i in items]))
    resumed = TrainingRun(lm_config(3), resume=True)
    resumed.run()
    assert resumed.tracker.run_id == first.tracker.run_id
    assert json.loads((first.dir / "state.json").read_text())["iteration"] == 3
    assert len((first.dir / "metrics.jsonl").read_text().splitlines()) == 3

