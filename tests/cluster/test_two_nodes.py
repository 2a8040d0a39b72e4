"""Two nodes on one machine (``ray start``, token auth on): a training job submitted with
``ray job submit`` runs across both, loses the worker node in the middle, and finishes
on the head with its rollout workers and reasoner restarted there; the cluster's memo
keeps every outcome it acknowledged; job status, logs and stop work with the token.

The head's own capacity is held by a placeholder actor while the job starts, so that the
job's actors land on the worker node (as on a cluster whose head is busy); it is released
when the worker dies, as a real cluster frees or adds capacity. Both nodes offer a logical
GPU and the role markers, so the GPU scheduling path and the markers are exercised.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import yaml
from memo_helpers import memo_keys
from mlflow.tracking import MlflowClient

from audiorouter.cluster.local import LocalCluster

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
MARKERS = {"cpu_worker": 10, "gpu_worker": 10}
# Iterations take about 0.4 s here; the node is lost at about iteration 27 (three
# iterations, then the actors are listed): 80 leave it mid-run with room to spare, and
# 50 after it for the restarts (each iteration past 80 cost the suite 0.4 s).
ITERATIONS = 80
CHECKPOINT_EVERY = 40

HOLD_HEAD = """
import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
ray.init(namespace="two-node-test")
head = next(n["NodeID"] for n in ray.nodes() if n["Alive"] and "node:__internal_head__" in n["Resources"])
holder = ray.remote(num_cpus=2, num_gpus=1)(type("Holder", (), {"ping": lambda self: head})).options(
    name="head-holder", lifetime="detached", scheduling_strategy=NodeAffinitySchedulingStrategy(head, soft=False))
print(ray.get(holder.remote().ping.remote()))
"""
RELEASE_HEAD = """
import ray
ray.init(namespace="two-node-test")
ray.kill(ray.get_actor("head-holder"))
"""
ACTORS = """
import json, ray
from ray.util.state import list_actors
ray.init()
head = next(n["NodeID"] for n in ray.nodes() if n["Alive"] and "node:__internal_head__" in n["Resources"])
actors = [{"cls": a.class_name, "node": a.node_id, "state": a.state, "restarts": a.num_restarts}
          for a in list_actors(detail=True, limit=10000)]
print(json.dumps({"head": head, "actors": actors}))
"""


def job_config(root: Path, name: str, iterations: int) -> Path:
    """A small training run whose every role asks for its marker; stores on the cluster services."""
    config = {
        "data": {"dir": str(root / "data"), "synth": {"n": 90, "workers": 1,
                                                    "families": ["tempo", "loudness_compare", "duration"]}},
        "tools": {"enabled": ["tempo", "loudness", "segments"], "cache_dir": str(root / "tool_cache"),
                  "cache_store": "service", "num_actors": 1, "actor_num_cpus": 0.5,
                  "actor_resources": {"cpu_worker": 0.01}},
        "reasoner": {"memo_path": str(root / "memo.sqlite"), "memo_store": "service", "actor_num_cpus": 0.5,
                     "actor_num_gpus": 1.0, "actor_resources": {"gpu_worker": 0.01}},
        "router": {"feature_cache_dir": str(root / "features")},
        "train": {"train_size": 24, "iterations": iterations, "train_batch_size": 32, "minibatch_size": 32,
                  "num_epochs": 1, "num_env_runners": 2, "num_envs_per_env_runner": 8,
                  "cpus_per_env_runner": 0.5, "env_runner_resources": {"cpu_worker": 0.01}, "restart_delay_s": 2.0},
        "tracking": {"tracking_uri": str(root / "mlflow.db"), "artifact_dir": str(root / "artifacts")},
        "run": {"name": name, "out_dir": str(root / "runs"), "checkpoint_every": CHECKPOINT_EVERY, "eval_limit": 9},
    }
    path = root / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def submit(cluster: LocalCluster, config: Path, job_id: str) -> None:
    args = ("job", "submit", "--no-wait", "--submission-id", job_id, "--working-dir", str(ROOT),
            "--runtime-env", str(ROOT / "cluster" / "runtime_env.yaml"), "--",
            "python", "ray_jobs/train_router.py", "--config", str(config))
    for _ in range(30):  # the head's job agent may still be starting ("try again later")
        done = cluster.ray_cli(*args, check=False)
        if done.returncode == 0 or "No available agent" not in done.stderr:
            break
        time.sleep(2.0)
    assert done.returncode == 0, done.stderr[-2000:]


def status(cluster: LocalCluster, job_id: str) -> str:
    """The state ``ray job status`` prints: "Job 'ID' succeeded|failed|was stopped", else
    "Status for job 'ID': STATE"."""
    out = cluster.ray_cli("job", "status", job_id).stdout
    for word, state in (("succeeded", "SUCCEEDED"), ("failed", "FAILED"), ("was stopped", "STOPPED")):
        if f"Job '{job_id}' {word}" in out:
            return state
    found = re.search(rf"Status for job '{job_id}': (\w+)", out)
    assert found, f"no job state in: {out}"
    return found.group(1)


def wait(condition, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}")
        time.sleep(2.0)


def actors(cluster: LocalCluster) -> tuple[str, list[dict]]:
    found = json.loads(cluster.run_python(ACTORS).strip().splitlines()[-1])
    return found["head"], found["actors"]



@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    local = LocalCluster(tmp_path_factory.mktemp("node-logs"), head_cpus=2, head_gpus=1, head_resources=MARKERS)
    try:
        local.add_worker(num_cpus=2, num_gpus=1, resources=MARKERS)
        yield local
    finally:
        local.stop()
    assert not local.leftovers(), "processes of the test cluster are still running"


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """One folder for both tests: the cluster's store services keep their files here."""
    return tmp_path_factory.mktemp("two-nodes")


def test_training_survives_losing_the_worker_node(cluster, root):
    config = job_config(root, "two-nodes", ITERATIONS)
    run_dir = root / "runs" / "two-nodes"
    cluster.run_python(HOLD_HEAD)
    submit(cluster, config, "train-two-nodes")
    wait(lambda: status(cluster, "train-two-nodes") != "PENDING", "the job to start", 120)
    metrics = run_dir / "metrics.jsonl"
    wait(lambda: metrics.exists() and len(metrics.read_text().splitlines()) >= 3, "three iterations", 600)

    head, before = actors(cluster)
    alive = [a for a in before if a["state"] == "ALIVE"]
    worker_side = {a["cls"] for a in alive if a["node"] != head}
    assert {"ReasonerActor", "SingleAgentEnvRunner"} <= worker_side, alive  # the roles went to the worker
    assert all(a["node"] == head for a in alive if a["cls"] == "StoreService")  # the stores stay on the head
    acknowledged = memo_keys(root / "memo.sqlite")
    assert acknowledged

    lost_at = len(metrics.read_text().splitlines())
    assert status(cluster, "train-two-nodes") == "RUNNING" and lost_at < ITERATIONS, "the job ended too soon"
    cluster.kill_worker_raylet()
    cluster.run_python(RELEASE_HEAD)
    wait(lambda: status(cluster, "train-two-nodes") in ("SUCCEEDED", "FAILED", "STOPPED"), "the job to end", 900)
    logs = cluster.ray_cli("job", "logs", "train-two-nodes").stdout
    assert status(cluster, "train-two-nodes") == "SUCCEEDED", logs[-3000:]

    _, after = actors(cluster)
    restarted = [a for a in after if a["cls"] in ("ReasonerActor", "SingleAgentEnvRunner")]
    assert {a["cls"] for a in restarted} == {"ReasonerActor", "SingleAgentEnvRunner"}
    assert all(a["node"] == head and a["restarts"] >= 1 for a in restarted), restarted  # restarted on the head
    lines = [json.loads(line) for line in metrics.read_text().splitlines()]
    assert all(m["episodes"] == 32 for m in lines)  # rounds with no rollout worker alive were not counted
    assert sum(m["empty_rounds"] for m in lines[:lost_at]) == 0 < sum(m["empty_rounds"] for m in lines[lost_at:])
    assert lines[-1]["env_runner_restarts"] >= 2 and lines[-1]["healthy_env_runners"] == 2

    state = json.loads((run_dir / "state.json").read_text())
    assert state["iteration"] == ITERATIONS
    assert [m["iteration"] for m in lines] == list(range(1, ITERATIONS + 1))
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == sorted(
        f"iter-{i}" for i in range(CHECKPOINT_EVERY, ITERATIONS + 1, CHECKPOINT_EVERY))
    assert (run_dir / "report.json").exists()
    client = MlflowClient(f"sqlite:///{root / 'mlflow.db'}")
    mlrun = client.get_run(state["mlflow_run_id"])
    assert mlrun.info.status == "FINISHED"
    assert [m.step for m in client.get_metric_history(mlrun.info.run_id, "mean_reward")] == list(
        range(1, ITERATIONS + 1))
    assert acknowledged <= memo_keys(root / "memo.sqlite")


def test_a_submitted_job_can_be_stopped(cluster, root):
    config = job_config(root, "to-stop", 1000)
    submit(cluster, config, "train-to-stop")
    wait(lambda: status(cluster, "train-to-stop") == "RUNNING", "the job to run", 120)
    cluster.ray_cli("job", "stop", "train-to-stop")
    wait(lambda: status(cluster, "train-to-stop") == "STOPPED", "the job to stop", 120)
    listed = cluster.ray_cli("job", "list").stdout
    assert "train-to-stop" in listed and "train-two-nodes" in listed
