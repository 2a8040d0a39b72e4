"""Rollout throughput of router training, as JSON: env steps/s and reasoner calls/s for
1 vs 2 rollout workers, memoised (outcomes remembered in the worker and on disk) vs
not (every (item, subset) asked again), all in one run on one local Ray session.

    python benchmarks/bench_rollout.py [--iterations 6] [--train-size 96]

Uses the built-in suite under data.dir (generated if missing) and the tool cache, which
it fills first (tool time is not part of the rollout numbers).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time

from audiorouter.cluster.session import start_ray
from audiorouter.config import load_config
from audiorouter.training.driver import TrainingRun


def measure(overrides: list[str], iterations: int) -> dict:
    """Env steps/s over ``iterations`` timed iterations after one warm-up, and where the
    time went: the learner's update (timed around RLlib's own call) and the rollout
    workers' waits for outcomes (their ``outcome_wait_s`` counters)."""
    run = TrainingRun(load_config(None, overrides))
    run.build()
    learner_s = [0.0]
    try:
        run.trainer.train_iteration()  # warm-up: workers start, first outcomes
        learner = run.trainer.algo.learner_group
        update = learner.update

        def timed_update(*args, **kwargs):
            begin = time.perf_counter()
            try:
                return update(*args, **kwargs)
            finally:
                learner_s[0] += time.perf_counter() - begin

        learner.update = timed_update  # an instrument on the real call, nothing replaced
        start = time.perf_counter()
        metrics = [run.trainer.train_iteration() for _ in range(iterations)]
        wall = time.perf_counter() - start
    finally:
        run.trainer.stop()
        if run.hosted is not None:
            run.hosted.stop()
    steps = sum(m.episodes for m in metrics)
    asked = sum(m.source_stats.get("reasoner_requests", 0.0) for m in metrics)
    waited = sum(m.source_stats.get("outcome_wait_s", 0.0) for m in metrics)
    workers = max(run.config.train.num_env_runners, 1)
    return {"env_steps_per_s": round(steps / wall, 1), "reasoner_requests_per_s": round(asked / wall, 1),
            "reasoner_requests_per_step": round(asked / max(steps, 1), 3), "episodes": steps,
            "seconds": round(wall, 2), "learner_share": round(learner_s[0] / wall, 3),
            # of the rollout workers' time (workers x wall), the part spent waiting for outcomes
            "outcome_wait_share": round(waited / (workers * wall), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=6)
    parser.add_argument("--train-size", type=int, default=96)
    args = parser.parse_args()
    start_ray()
    scratch = tempfile.mkdtemp(prefix="bench-rollout-")
    base = [f"train.train_size={args.train_size}", "train.train_batch_size=256", "train.minibatch_size=128",
            "train.num_envs_per_env_runner=32", "run.eval_limit=1", f"run.out_dir={scratch}",
            f"tracking.tracking_uri={scratch}/mlflow.db", f"tracking.artifact_dir={scratch}/artifacts"]
    cases = {}
    for workers in (1, 2):
        for memo in (True, False):
            memo_args = [] if memo else ["reasoner.memo_path="]
            name = f"workers{workers}_{'memo' if memo else 'no_memo'}"
            overrides = base + memo_args + [f"train.num_env_runners={workers}", f"run.name={name}",
                                            "reasoner.actor_num_cpus=0.5", "train.cpus_per_env_runner=0.5"]
            if not memo:
                overrides.append("run.local_memo=false")
            cases[name] = measure(overrides, args.iterations)
    naive = cases["workers1_no_memo"]["env_steps_per_s"]
    print(json.dumps({
        "benchmark": "rollout_throughput", "reasoner": "reference reasoner", "cases": cases,
        "speedup_memo_vs_naive_1_worker": round(cases["workers1_memo"]["env_steps_per_s"] / naive, 2),
        "speedup_2_workers_memo_vs_naive": round(cases["workers2_memo"]["env_steps_per_s"] / naive, 2),
    }, indent=2))
    shutil.rmtree(scratch, ignore_errors=True)  # kept when a case fails


if __name__ == "__main__":
    main()
