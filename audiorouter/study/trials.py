"""One study trial: train one method on exactly ``train_size`` items, score it on the
test split, keep the result on disk.

    result = run_trial(TrialSpec("router-ppo", 64, 2), context)

A finished trial's ``result.json`` (and what it trained: ``policy/`` or ``model.pt``) lives
in ``<study dir>/trials/<method>/n<size>-seed<seed>/``. ``run_trial`` returns that file's
result without training when it exists, so no finished trial is ever trained twice,
whether Tune restores the sweep or a changed grid starts a new one.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

from audiorouter.study.context import StudyContext, TrialSpec
from audiorouter.study.results import INTERNALISE_METHODS, ROUTER_METHODS, SUPERVISED_ROUTER, TrialResult

log = logging.getLogger(__name__)
RESULT_FILE = "result.json"


def trial_specs(study) -> list[TrialSpec]:
    """The grid: every method x its sizes x every seed, smallest sizes first."""
    specs = [TrialSpec(m, n, s) for m in study.methods for n in study.sizes_for(m) for s in range(study.seeds)]
    return sorted(specs, key=lambda t: (t.train_size, t.method, t.seed))


def load_result(folder: Path) -> TrialResult | None:
    path = folder / RESULT_FILE
    return TrialResult.from_dict(json.loads(path.read_text())) if path.exists() else None


def run_trial(spec: TrialSpec, ctx: StudyContext) -> TrialResult:
    folder = ctx.trial_dir(spec)
    done = load_result(folder)
    if done is not None:
        log.info("trial %s finished before: not retrained", spec.key)
        return done
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    correct, info = train_and_score(spec, ctx, folder)
    ids = ctx.data.test_ids
    result = TrialResult(spec.method, spec.train_size, spec.seed, list(ids), [ctx.data.tasks[i] for i in ids],
                         [bool(c) for c in correct], time.perf_counter() - start, info)
    tmp = folder / f"{RESULT_FILE}.tmp-{os.getpid()}"
    tmp.write_text(json.dumps(result.to_dict()))
    tmp.replace(folder / RESULT_FILE)  # atomic: a killed trial leaves no half-written result
    return result


def train_and_score(spec: TrialSpec, ctx: StudyContext, folder: Path) -> tuple[list[bool], dict]:
    """Per test item: correct or not, and what the method reports about itself."""
    if spec.method in ROUTER_METHODS or spec.method == SUPERVISED_ROUTER:
        from audiorouter.study.router_trials import score_on_test, train_rl_router, train_supervised_router

        train = train_supervised_router if spec.method == SUPERVISED_ROUTER else train_rl_router
        policy, info = train(spec, ctx)
        policy.save(folder / "policy")
        correct, test_info = score_on_test(policy, ctx)
        return correct, info | test_info
    if spec.method in INTERNALISE_METHODS:
        from audiorouter.study.internalise_trials import train_and_score_internaliser

        return train_and_score_internaliser(spec, ctx, folder)
    raise ValueError(f"trial {spec.key}: unknown method {spec.method!r}")
