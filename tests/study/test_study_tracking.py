"""A resumed study logs each trial's MLflow run once (the bug: a study killed while logging
a trial's child run left that run unrecorded in ``mlflow_runs.json``, and the rerun logged a
second one). The real sqlite store, the study's own ``log_study``."""

from __future__ import annotations

import json

import pytest
from mlflow.tracking import MlflowClient

from audiorouter.config import load_config
from audiorouter.study import tracking
from audiorouter.study.results import TrialResult
from audiorouter.tracking.mlflow_tracker import Tracker


def trial(seed: int) -> TrialResult:
    return TrialResult("router-ppo", 8, seed, ["a", "b"], ["pitch", "tempo"], [True, seed % 2 == 0], wall_s=1.0)


def children(config, study_dir) -> list[tuple[str, str]]:
    parent = json.loads((study_dir / tracking.RUNS_FILE).read_text())["parent"]
    client = MlflowClient(f"sqlite:///{config.tracking.tracking_uri}")
    runs = client.search_runs([client.get_experiment_by_name(config.tracking.experiment).experiment_id],
                              f"tags.mlflow.parentRunId = '{parent}'")
    return sorted((run.info.run_name, run.info.status) for run in runs)


def test_a_study_killed_while_logging_a_trial_logs_each_trial_once_when_rerun(tmp_path, monkeypatch):
    config = load_config(None, [f"tracking.tracking_uri={tmp_path / 'mlflow.db'}",
                                f"tracking.artifact_dir={tmp_path / 'artifacts'}"])
    study_dir = tmp_path / "study"
    study_dir.mkdir()
    tracking.log_study(config, study_dir, [trial(0)], [])

    def killed(self, path, artifact_path=None):
        raise KeyboardInterrupt  # the study stopped while the second trial's artifacts went up
    monkeypatch.setattr(Tracker, "log_artifact", killed)
    (study_dir / "trials" / "router-ppo" / "n8-seed1").mkdir(parents=True)
    with pytest.raises(KeyboardInterrupt):
        tracking.log_study(config, study_dir, [trial(0), trial(1)], [])
    monkeypatch.undo()
    assert children(config, study_dir) == [("router-ppo/n8-seed0", "FINISHED"), ("router-ppo/n8-seed1", "RUNNING")]

    tracking.log_study(config, study_dir, [trial(0), trial(1), trial(2)], [])
    assert children(config, study_dir) == [("router-ppo/n8-seed0", "FINISHED"), ("router-ppo/n8-seed1", "FINISHED"),
                                           ("router-ppo/n8-seed2", "FINISHED")]
