"""Study sweep throughput, as JSON: trials per hour of a reduced sweep run the way the
study runs it, against the same trials run one after another with nothing shared, side
by side in one process, both with the reference reasoner.

* shared -- ``StudyRun``: one tool pass into the cache, router features computed once,
  one reasoner actor pool with its outcome memo, trials concurrent under Ray Tune
  (``study.trial_cpus`` each), Tune running the next trial in a finished trial's process
  (``study.reuse_trial_actors``). Timed from the start of preparation (item generation
  and Ray's start, done once before every case, are not counted) to the last trial's
  result; ``sweep_s`` is the part after preparation.
* shared_process_per_trial -- the same with a new process per trial (as before
  ``reuse_trial_actors``), in caches of its own so it pays its own preparation too.
* naive -- every trial in the driver, one after another, each with its own in-process
  reasoner and no memo, tools computed without a cache, its own router features.
* bound -- the rate if the shared case's trials ran with no preparation at all, their
  own measured compute (``TrialResult.wall_s``) spread perfectly over the machine's cores.

    python benchmarks/bench_study.py [--seeds 2] [--sizes 8,16] [--methods router-ppo,supervised-router]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import ray

from audiorouter.cluster.session import start_ray
from audiorouter.config import load_config
from audiorouter.features import featurize
from audiorouter.reasoner.actor import ACTOR_PREFIX
from audiorouter.study.context import StudyContext, save_router_features
from audiorouter.study.dataset import ensure_study_data, load_items
from audiorouter.study.methods.catalog import data_sizes
from audiorouter.study.runner import StudyRun
from audiorouter.study.trials import run_trial, trial_specs

TOOLS = ["tempo", "pitch", "loudness", "onsets"]
FAMILIES = ["tempo", "note_name", "loudness_compare", "event_count"]


def config(scratch: Path, args: argparse.Namespace, case: str = "shared", reuse: bool = True):
    """The sweep's config; each case keeps its caches and runs under ``scratch/case``."""
    sizes = [int(s) for s in args.sizes.split(",")]
    own = scratch / case
    return load_config(None, [
        f"tools.enabled={json.dumps(TOOLS)}", f"tools.cache_dir={own}/tool_cache", "tools.num_actors=1",
        f"reasoner.memo_path={own}/memo.sqlite", "reasoner.actor_num_cpus=0.25",
        f"router.feature_cache_dir={own}/features", "train.train_batch_size=64", "train.minibatch_size=32",
        f"run.out_dir={own}/runs", f"tracking.tracking_uri={own}/mlflow.db", f"study.reuse_trial_actors={str(reuse).lower()}",
        f"tracking.artifact_dir={own}/artifacts", "study.name=bench", f"study.data_dir={scratch}/data",
        f"study.families={json.dumps(FAMILIES)}", f"study.methods={json.dumps(args.methods.split(','))}",
        f"study.router_sizes={json.dumps(sizes)}", f"study.internalise_sizes={json.dumps(sizes)}",
        f"study.seeds={args.seeds}", "study.test_per_family=10", "study.validation_per_family=5", "study.ood_per_family=5", "study.untrained_points=false",
        "study.episodes_per_item=16", "study.min_iterations=2", "study.trial_cpus=0.875", "study.resamples=100",
    ])


def shared_case(cfg) -> dict:
    start = time.perf_counter()
    run = StudyRun(cfg)
    run.prepare()
    prepared = time.perf_counter() - start
    run.constant_lines()
    run.sweep()
    wall = time.perf_counter() - start
    results, failed = run.collect()
    for handle in run.hosted.handles:  # named actors: the next case must start its own (own memo)
        ray.kill(handle)
    deadline = time.monotonic() + 60
    while any(n.startswith(ACTOR_PREFIX) for n in ray.util.list_named_actors()) and time.monotonic() < deadline:  # names free once the actors are dead
        time.sleep(0.5)
    return {"trials": len(results), "failed": failed, "wall_s": round(wall, 1), "prepare_s": round(prepared, 1),
            "sweep_s": round(wall - prepared, 1),
            "trials_per_hour": round(3600 * len(results) / wall, 1),
            "trial_compute_s": round(sum(r.wall_s for r in results), 1)}


def naive_case(cfg, scratch: Path) -> dict:
    data = ensure_study_data(cfg.study, progress=False, **data_sizes(cfg.study))
    lone = replace(cfg, tools=replace(cfg.tools, cache_dir=""), reasoner=replace(cfg.reasoner, memo_path=""),
                   run=replace(cfg.run, use_actors=False))
    specs = trial_specs(cfg.study)
    start = time.perf_counter()
    for k, spec in enumerate(specs):
        folder = scratch / "naive" / str(k)
        folder.mkdir(parents=True)
        context = StudyContext(lone, data, TOOLS, str(folder))
        ids = sorted(set(data.training_ids(spec.train_size, spec.seed, pool=True)) | set(data.test_ids))
        items = load_items(data.data_dir, ("pool", "train", "test"), ids)
        save_router_features(featurize(items, context.feature_spec, None), folder)
        run_trial(spec, context)
    wall = time.perf_counter() - start
    return {"trials": len(specs), "wall_s": round(wall, 1), "trials_per_hour": round(3600 * len(specs) / wall, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--sizes", default="8,16")
    parser.add_argument("--methods", default="router-ppo,supervised-router")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-study-"))
    cfg = config(scratch, args)
    ensure_study_data(cfg.study, progress=False, **data_sizes(cfg.study))  # generated once, for every case, not timed
    start_ray()  # started once, before every case, not timed
    shared = shared_case(cfg)
    per_trial = shared_case(config(scratch, args, "process_per_trial", reuse=False))
    naive = naive_case(config(scratch, args, "naive"), scratch)
    cores = os.cpu_count() or 1
    bound = 3600 * shared["trials"] / max(shared["trial_compute_s"] / cores, 1e-9)
    print(json.dumps({
        "benchmark": "study_sweep_throughput", "reasoner": "reference reasoner", "cpu_cores": cores,
        "sweep": {"methods": args.methods.split(","), "sizes": args.sizes, "seeds": args.seeds, "tools": TOOLS,
                  "families": FAMILIES},
        "shared": shared, "shared_process_per_trial": per_trial, "naive": naive,
        "speedup_shared_vs_naive": round(shared["trials_per_hour"] / naive["trials_per_hour"], 2),
        "speedup_reused_vs_process_per_trial": round(shared["trials_per_hour"] / per_trial["trials_per_hour"], 2),
        "bound_trials_per_hour": round(bound, 1),
    }, indent=2))
    shutil.rmtree(scratch, ignore_errors=True)  # kept when a case fails


if __name__ == "__main__":
    main()
