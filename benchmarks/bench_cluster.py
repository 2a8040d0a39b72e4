"""Rollout throughput on one node and on two local nodes, as JSON.

    python benchmarks/bench_cluster.py [--iterations 4] [--out bench_cluster.json]

Cases: 1, 2 and 4 rollout workers with the reasoner on named actors and the memo in
SQLite files, on one node and on two ``ray start`` nodes of this machine; at 2 workers
also the reasoner as the Serve deployment, and the memo and tool cache as the cluster's
store services. Every case is a training driver connected to the cluster (as ``ray job
submit`` runs one) timing as ``bench_rollout.measure`` does: one warm-up iteration
(workers start, the memo fills), then ``--iterations`` timed ones. Rollout workers do not remember outcomes themselves
(``run.local_memo=false``), so every episode's (item, tool subset) reaches the hosted
reasoner and its memo: what is measured is the path a cluster scales, not a local dict.

Both topologies run on the same physical cores, so the two-node numbers measure what
distribution costs (the second raylet, object transfers, remote calls), not what a
second machine adds; the naive baseline is 1 worker on one node. The bound on this
machine is its cores: every case is CPU-bound on the same cores.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKERS = {"cpu_worker": 100}


def case_overrides(scratch: Path, name: str, workers: int, hosting: str, store: str) -> list[str]:
    base = [f"data.dir={scratch}/data", "data.synth.n=240", "data.synth.workers=1",
            "data.synth.families=[tempo, loudness_compare, duration, note_count]",
            "tools.enabled=[tempo, loudness, segments, onsets]", "tools.num_actors=1",
            f"tools.cache_dir={scratch}/{store}/tool_cache", f"reasoner.memo_path={scratch}/{store}/memo.sqlite",
            f"router.feature_cache_dir={scratch}/features", "train.train_size=96", "train.train_batch_size=128",
            "train.minibatch_size=64", "train.num_epochs=1", "train.num_envs_per_env_runner=32",
            f"train.num_env_runners={workers}", "train.cpus_per_env_runner=0.25", "reasoner.actor_num_cpus=0.25",
            "tools.actor_num_cpus=0.25", "run.local_memo=false", "run.eval_limit=1", f"run.name={name}",
            f"run.out_dir={scratch}/runs", f"tracking.tracking_uri={scratch}/mlflow.db",
            f"tracking.artifact_dir={scratch}/artifacts", f"reasoner.hosting={hosting}",
            "tools.actor_resources={cpu_worker: 0.01}", "train.env_runner_resources={cpu_worker: 0.01}",
            "reasoner.actor_resources={cpu_worker: 0.01}"]
    if store == "service":
        base += ["reasoner.memo_store=service", "tools.cache_store=service"]
    return base


def measure_topology(nodes: int, scratch: Path, iterations: int, cases: dict) -> dict:
    from audiorouter.cluster.local import LocalCluster

    results = {}
    with LocalCluster(scratch / f"logs-{nodes}", head_cpus=4 if nodes == 1 else 2,
                      head_resources=MARKERS) as cluster:
        if nodes == 2:
            cluster.add_worker(num_cpus=2, resources=MARKERS)
        for name, (workers, hosting, store) in cases.items():
            overrides = case_overrides(scratch, f"{name}-{nodes}n", workers, hosting, store)
            code = (f"import json, sys; sys.path.insert(0, {str(ROOT / 'benchmarks')!r}); "
                    f"from bench_rollout import measure; print(json.dumps(measure({overrides!r}, {iterations})))")
            out = cluster.run_python(code, timeout=1200)
            results[name] = json.loads(out.strip().splitlines()[-1])
            print(f"{nodes} node(s) {name}: {results[name]}", file=sys.stderr)
            if store == "service":  # the services outlive the driver: stop them for the next case
                cluster.run_python("import ray; ray.init(); from audiorouter.store.service import KINDS, "
                                   "stop_service; [stop_service(k) for k in KINDS]")
    return results


MEMO_ROUND_TRIP = """
import json, tempfile, time, ray
from audiorouter.contracts import ReasonerOutcome
from audiorouter.store.outcome_memo import OutcomeMemo
from audiorouter.store.client import RemoteStore
from audiorouter.store.service import stop_service
ray.init()
folder = tempfile.mkdtemp()
entries = [(("ref", f"item-{i}", "none"), ReasonerOutcome(f"item-{i}", 1, [0.0, 1.0], True, "B", 1.0))
           for i in range(6400)]
timings = {}
for name, store in (("sqlite_file", OutcomeMemo(folder + "/local.sqlite")),
                    ("service", RemoteStore("outcomes", folder + "/service.sqlite", local_entries=0))):
    store.put_many(entries)
    keys = [k for k, _ in entries]
    start = time.perf_counter()
    for b in range(0, len(keys), 64):
        store.get_many(keys[b:b + 64])
    timings[name] = round(1000 * (time.perf_counter() - start) / (len(keys) // 64), 3)
stop_service("outcomes")
print(json.dumps({"ms_per_get_of_64_outcomes": timings}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=4)
    parser.add_argument("--out", help="also write the JSON here")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    cases = {f"workers{w}_actors_sqlite": (w, "actors", "sqlite") for w in (1, 2, 4)}
    cases |= {"workers2_serve_sqlite": (2, "serve", "sqlite"), "workers2_actors_service": (2, "actors", "service")}
    one = measure_topology(1, scratch, args.iterations, cases)
    from audiorouter.cluster.local import LocalCluster

    with LocalCluster(scratch / "logs-memo") as cluster:  # the cluster memo's round trip, cache off
        memo = json.loads(cluster.run_python(MEMO_ROUND_TRIP).strip().splitlines()[-1])
    two = measure_topology(2, scratch, args.iterations, cases)
    naive = one["workers1_actors_sqlite"]["env_steps_per_s"]
    result = {
        "benchmark": "cluster_rollout_throughput", "reasoner": "reference reasoner",
        "machine": f"{os.cpu_count()} cores; both topologies share them",
        "naive_baseline": "1 rollout worker, one node, actors, SQLite memo",
        "one_node": one, "two_nodes": two, "memo_round_trip": memo,
        "ratio_vs_naive": {f"{topology}/{name}": round(case["env_steps_per_s"] / naive, 2)
                           for topology, cases_ in (("one_node", one), ("two_nodes", two))
                           for name, case in cases_.items()},
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    shutil.rmtree(scratch, ignore_errors=True)  # kept when a case fails: its logs are there


if __name__ == "__main__":
    main()
