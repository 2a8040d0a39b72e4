"""The MLflow tracker on a real sqlite store: a resumed run logs the steps after its
checkpoint again, and MLflow keeps one value per step (the bug: two values for each of
39 metrics at the step logged again after a kill -9 and --resume)."""

from __future__ import annotations

from mlflow.tracking import MlflowClient

from audiorouter.config import TrackingConfig
from audiorouter.tracking.mlflow_tracker import Tracker


def test_a_resumed_run_holds_one_value_per_step(tmp_path):
    config = TrackingConfig(tracking_uri=str(tmp_path / "mlflow.db"), artifact_dir=str(tmp_path / "artifacts"))
    first = Tracker(config, "run")
    for step in (1, 2, 3):  # checkpoint at 2; killed after logging 3
        first.log_metrics({"reward": step / 10, "accuracy": 0.5}, step=step)
    resumed = Tracker(config, "run", run_id=first.run_id)
    assert resumed.forget_steps_after(2) == 2  # both metrics of step 3
    for step in (3, 4):
        resumed.log_metrics({"reward": step / 10 + 0.05, "accuracy": 0.6}, step=step)
    client = MlflowClient(resumed.uri)
    history = {m.step: m.value for m in client.get_metric_history(first.run_id, "reward")}
    assert len(client.get_metric_history(first.run_id, "reward")) == 4
    assert history == {1: 0.1, 2: 0.2, 3: 0.35, 4: 0.45}
    assert client.get_run(first.run_id).data.metrics == {"reward": 0.45, "accuracy": 0.6}  # the latest values


def test_forgetting_on_a_fresh_run_changes_nothing(tmp_path):
    config = TrackingConfig(tracking_uri=str(tmp_path / "mlflow.db"), artifact_dir=str(tmp_path / "artifacts"))
    tracker = Tracker(config, "run")
    tracker.log_metrics({"reward": 0.1}, step=1)
    assert tracker.forget_steps_after(1) == 0
    assert MlflowClient(tracker.uri).get_run(tracker.run_id).data.metrics == {"reward": 0.1}
