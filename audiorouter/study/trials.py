"""One study trial: train one method on exactly ``train_size`` items, score it on the
test split, keep the result on disk.

    result = run_trial(TrialSpec("router-ppo", 64, 2), context)

A finished trial's ``result.json`` (and what it trained: ``policy/`` or ``model.pt``) lives
in ``<study dir>/trials/<method>/n<size>-seed<seed>/``. ``run_trial`` returns that file's
result without training when it exists, so no finished trial is ever trained twice,
whether Tune restores the sweep or a changed grid starts a new one. What a method
trains and how it scores lives in study/methods (``methods.train_and_score``).

Imports: study.context, study.kept_results, study.methods, study.results.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import replace
from pathlib import Path

from audiorouter.state_files import read_json_file, write_text_atomic
from audiorouter.study.context import StudyContext, TrialSpec
from audiorouter.study.kept_results import RESULT_FILE, keep_result
from audiorouter.study.methods import get_method, sizes_for, train_and_score
from audiorouter.study.results import TrialResult

log = logging.getLogger(__name__)


def trial_specs(study) -> list[TrialSpec]:
    """The grid: every method x its sizes (and 0, its untrained point, with
    study.untrained_points) x every seed, smallest sizes first."""
    specs = [TrialSpec(m, n, s) for m in study.methods for n in sizes_with_untrained(study, m)
             for s in range(study.seeds)]
    return sorted(specs, key=lambda t: (t.train_size, t.method, t.seed))


def sizes_with_untrained(study, method: str) -> list[int]:
    untrained = study.untrained_points and get_method(method).untrained_point
    return ([0] if untrained else []) + sizes_for(study, method)


def load_result(folder: Path, splits: dict[str, list[str]], digest: str = "", require_digest: bool = False
                ) -> TrialResult | None:
    """The finished trial's result, or None when there is none, when it was scored on other
    items than ``splits`` (split -> item ids; the study's splits changed since, e.g. an
    out-of-distribution split was added), or trained on other items than ``digest`` says
    (``training_digest``; a result without one counts unless ``require_digest``): such a
    trial is trained again."""
    path = folder / RESULT_FILE
    if not path.exists():
        return None
    result = TrialResult.from_dict(read_json_file(path, "trial result", "Delete it and run the study again: "
                                                  "that trial is rerun, the others are kept"))
    scored = {"test": result.item_ids} | {split: part["item_ids"] for split, part in result.ood.items()}
    if scored != splits:
        log.warning("trial result %s was scored on other items than the study's splits now (%s, not %s): "
                    "the trial runs again", path, ", ".join(sorted(scored)), ", ".join(sorted(splits)))
        return None
    if (result.training_digest and digest and result.training_digest != digest) or (
            not result.training_digest and require_digest):
        log.warning("trial result %s was trained on other items than this study's trial trains on (its pool "
                    "changed, e.g. study.seed_pools): the trial runs again", path)
        return None
    return result


def training_digest(spec: TrialSpec, ctx: StudyContext) -> str:
    """What ``spec`` trains on: its training items and, for a method that trains inside the
    router pool, the splits that hold the pools (an untrained router reads the pools'
    features); 16 hex digits."""
    data, pool = ctx.data, get_method(spec.method).pool
    text = json.dumps([list(data.pool_splits) if pool else [], data.training_ids(spec.train_size, spec.seed, pool)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def finished_result(spec: TrialSpec, ctx: StudyContext) -> TrialResult | None:
    """``spec``'s result if it finished on the items it would train and be scored on now.
    Where the router pools are not the plan's split "pool" (study.seed_pools, or a shared
    pool grown later), a router result without a training digest (kept from before) is not one."""
    required = get_method(spec.method).pool and ctx.data.pool_splits != ("pool",)
    return load_result(ctx.trial_dir(spec), ctx.data.eval_splits, training_digest(spec, ctx), required)


def scored_result(spec: TrialSpec, ctx: StudyContext, correct: dict[str, list[bool]], wall_s: float,
                  info: dict) -> TrialResult:
    """The trial's result: the test split's outcomes, and each out-of-distribution split's in ``ood``."""
    splits = ctx.data.eval_splits
    if set(correct) != set(splits):
        raise ValueError(f"trial {spec.key} scored splits {sorted(correct)}, expected {sorted(splits)}")
    for split, ids in splits.items():
        if len(correct[split]) != len(ids):
            raise ValueError(f"trial {spec.key}: {len(correct[split])} outcomes for the {len(ids)} items of {split}")
    tasks = {split: [ctx.data.tasks[i] for i in ids] for split, ids in splits.items()}
    ood = {split: {"item_ids": list(ids), "tasks": tasks[split], "correct": [bool(c) for c in correct[split]]}
           for split, ids in splits.items() if split != "test"}
    return TrialResult(spec.method, spec.train_size, spec.seed, list(splits["test"]), tasks["test"],
                       [bool(c) for c in correct["test"]], wall_s, info, ood)


def run_trial(spec: TrialSpec, ctx: StudyContext) -> TrialResult:
    folder = ctx.trial_dir(spec)
    done = finished_result(spec, ctx)
    if done is not None:
        log.info("trial %s finished before: not retrained", spec.key)
        return done
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    correct, info = train_and_score(spec, ctx, folder)
    result = replace(scored_result(spec, ctx, correct, time.perf_counter() - start, info),
                     training_digest=training_digest(spec, ctx))
    write_text_atomic(folder / RESULT_FILE, json.dumps(result.to_dict()))  # a killed trial leaves no half result
    if ctx.config.study.keep_dir:
        keep_result(ctx.config.study.keep_dir, spec.key, folder / RESULT_FILE)
    return result
