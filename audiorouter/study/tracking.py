"""The study in MLflow: one parent run, one nested child run per trial.

The parent holds the study's config, provenance and outputs (study.json, study.md,
plots); each child the trial's method, size and seed as params, its accuracy and wall
time as metrics, and its folder (trained policy or model, result.json) as artifacts.
A rerun reuses the parent and adds children only for trials not logged before:
``mlflow_runs.json`` in the study folder remembers the run ids, and MLflow itself is asked
for the parent's children, so a child whose id never reached the file (the study was
killed while logging it) is neither logged twice nor left half-logged: a finished one is
adopted, an unfinished one is deleted and logged again.
"""

from __future__ import annotations

import json
from pathlib import Path

from audiorouter.config import Config, flatten
from audiorouter.state_files import read_json_file
from audiorouter.study.context import TrialSpec
from audiorouter.study.results import TrialResult
from audiorouter.tracking.mlflow_tracker import Tracker

RUNS_FILE = "mlflow_runs.json"


def log_study(config: Config, study_dir: Path, results: list[TrialResult], outputs: list[Path]) -> Tracker:
    path = study_dir / RUNS_FILE
    known = read_json_file(path, "study's MLflow run list",
                           "Delete it: the study is logged again as new MLflow runs") if path.exists() else {}
    parent = Tracker(config.tracking, f"study-{config.study.name}", known.get("parent"))
    known["parent"] = parent.run_id
    parent.log_params(flatten(config))
    children = known.setdefault("children", {})
    logged = parent.child_runs()
    for result in results:
        spec = TrialSpec(result.method, result.train_size, result.seed)
        key = spec.key
        if key in children:
            continue
        if key in logged:
            run_id, status = logged[key]
            if status == "FINISHED":
                children[key] = run_id
                continue
            parent.delete_run(run_id)  # cut off while logging: log it whole, once
        child = Tracker(config.tracking, key, parent_run_id=parent.run_id)
        child.log_params({"method": result.method, "train_size": result.train_size, "seed": result.seed,
                          "info": json.dumps(result.info, default=str)})
        child.log_metrics({"accuracy": result.accuracy, "wall_s": result.wall_s,
                           **{f"{split}_accuracy": result.on_split(split).accuracy for split in result.ood}},
                          step=result.train_size)
        folder = study_dir / "trials" / spec.key  # where trials.run_trial keeps it
        if folder.is_dir():
            child.log_artifact(folder, "trial")
        child.finish()
        children[key] = child.run_id
        path.write_text(json.dumps(known, indent=1))
    for output in outputs:
        if output.exists():  # an out-of-distribution split's outputs under its own folder's name
            folder = output.parent.relative_to(study_dir) if output.parent != study_dir else None
            parent.log_artifact(output, None if folder is None else str(folder))
    parent.finish()
    path.write_text(json.dumps(known, indent=1))
    return parent
