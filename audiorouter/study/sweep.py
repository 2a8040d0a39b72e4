"""The study's Ray Tune sweep: one trial per (method, train_size, seed).

    run_sweep(specs, context)      # blocks until every trial finished or failed

The grid is a ``tune.grid_search`` over trial specs (sizes differ per method, so the
grid is over the spec list, not a product of axes). Only trials without a result go
into it (the runner leaves finished ones out). The experiment lives in
``<study dir>/tune/<name>-<hash of the whole grid>``: rerunning the same grid restores
it (Tune resumes unfinished and errored trials; finished ones are not rerun); a changed
grid starts a new experiment of the trials still to run. A trial that finished anyway
(on another machine, restored from the kept folder) returns its saved result without
training (trials.run_trial). Each trial reports its accuracy and hands its
folder to Tune as the checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict
from pathlib import Path

from ray import tune

from audiorouter.study.context import StudyContext, TrialSpec
from audiorouter.study.trials import run_trial

log = logging.getLogger(__name__)


def study_trial(config: dict, context: StudyContext) -> None:
    """The Tune trainable: run (or load) one trial and report it once."""
    spec = TrialSpec(**config["trial"])
    result = run_trial(spec, context)
    checkpoint = tune.Checkpoint.from_directory(str(context.trial_dir(spec)))
    tune.report({"accuracy": result.accuracy, "train_size": spec.train_size, "trial_wall_s": result.wall_s},
                checkpoint=checkpoint)


def experiment_path(specs: list[TrialSpec], context: StudyContext) -> Path:
    """The experiment's folder, named by the study's whole grid (``specs``)."""
    grid = json.dumps([asdict(s) for s in specs], sort_keys=True)
    digest = hashlib.sha256(grid.encode()).hexdigest()[:8]
    return (Path(context.study_dir) / "tune").resolve() / f"{context.config.study.name}-{digest}"


def run_sweep(specs: list[TrialSpec], context: StudyContext, grid: list[TrialSpec] | None = None) -> tune.ResultGrid:
    """Run the trials ``specs`` of the study whose whole grid is ``grid`` (default: ``specs``)."""
    study = context.config.study
    bundle = {"CPU": study.trial_cpus, "GPU": study.trial_gpus, **study.trial_resources}
    resources = tune.PlacementGroupFactory([{k: v for k, v in bundle.items() if v}])
    trainable = tune.with_resources(tune.with_parameters(study_trial, context=context), resources)
    path = experiment_path(grid or specs, context)
    if tune.Tuner.can_restore(str(path)):
        log.info("restoring the sweep in %s (finished trials are not rerun)", path)
        tuner = tune.Tuner.restore(str(path), trainable, resume_unfinished=True, resume_errored=True)
    else:
        tuner = tune.Tuner(
            trainable,
            param_space={"trial": tune.grid_search([asdict(s) for s in specs])},
            tune_config=tune.TuneConfig(max_concurrent_trials=study.max_concurrent_trials or None,
                                        reuse_actors=study.reuse_trial_actors),
            run_config=tune.RunConfig(name=path.name, storage_path=str(path.parent), verbose=1,
                                      failure_config=tune.FailureConfig(max_failures=1)),
        )
    return tuner.fit()
