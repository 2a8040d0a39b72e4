"""Experiment tracking with MLflow, from the driver only.

Default store: a sqlite tracking database plus an artifacts folder under ``runs/``
(MLflow 3 refuses the plain file store); any tracking URI works by config. A resumed
run continues the same MLflow run (its id is kept in the run's state file).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import mlflow
from mlflow.tracking import MlflowClient

from audiorouter.config import TrackingConfig

log = logging.getLogger(__name__)
MAX_PARAM_CHARS = 6000


def tracking_uri(config: TrackingConfig) -> str:
    """``sqlite:///abs/path`` for a plain path; URIs (``http://``, ``sqlite://``) as given."""
    uri = config.tracking_uri
    if "://" in uri:
        return uri
    path = Path(uri).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


class Tracker:
    """One MLflow run: params once, metrics per step, artifacts."""

    def __init__(self, config: TrackingConfig, run_name: str, run_id: str | None = None,
                 parent_run_id: str | None = None) -> None:
        """A new run named ``run_name`` (nested under ``parent_run_id`` when given), or the
        existing run ``run_id``."""
        mlflow.set_tracking_uri(tracking_uri(config))
        self.client = MlflowClient()
        experiment = self.client.get_experiment_by_name(config.experiment)
        if experiment is None:
            artifacts = Path(config.artifact_dir).resolve()
            artifacts.mkdir(parents=True, exist_ok=True)
            experiment_id = self.client.create_experiment(config.experiment, artifact_location=artifacts.as_uri())
        else:
            experiment_id = experiment.experiment_id
        if run_id is None:
            tags = {"mlflow.parentRunId": parent_run_id} if parent_run_id else None
            run_id = self.client.create_run(experiment_id, run_name=run_name, tags=tags).info.run_id
        self.run_id = run_id
        self.experiment_id = experiment_id
        self.uri = tracking_uri(config)

    def log_params(self, params: dict[str, Any]) -> None:
        existing = self.client.get_run(self.run_id).data.params
        for key, value in params.items():
            text = str(value)[:MAX_PARAM_CHARS]
            if key not in existing:  # a resumed run already has them (and MLflow forbids changes)
                self.client.log_param(self.run_id, key, text)

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        for key, value in metrics.items():
            if value is not None and math.isfinite(float(value)):
                self.client.log_metric(self.run_id, key, float(value), step=step)

    def forget_steps_after(self, step: int) -> int:
        """Drop this run's metric values logged at steps after ``step``: a run resumed
        from the checkpoint of ``step`` logs those steps again, and MLflow would otherwise
        hold two values for each (it has no call to delete one). Works on a sqlite (or
        other SQL) store through MLflow's own tables; on a server it only warns. Returns
        the values dropped."""
        if not self.uri.startswith(("sqlite:", "postgresql", "mysql", "mssql")):
            log.warning("MLflow store %s: values logged after step %d before the resume stay beside the new ones",
                        self.uri, step)
            return 0
        from mlflow.store.tracking.dbmodels.models import SqlLatestMetric, SqlMetric
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

        store = SqlAlchemyStore(self.uri, self.client.get_experiment(self.experiment_id).artifact_location)
        with store.ManagedSessionMaker(read_only=False) as session:
            mine = session.query(SqlMetric).filter(SqlMetric.run_uuid == self.run_id)
            dropped = mine.filter(SqlMetric.step > step).delete()
            latest: dict[str, SqlMetric] = {}  # MLflow's rule: the greatest (step, timestamp, value)
            for metric in mine.all():
                best = latest.get(metric.key)
                if best is None or (metric.step, metric.timestamp, metric.value) > (best.step, best.timestamp, best.value):
                    latest[metric.key] = metric
            session.query(SqlLatestMetric).filter(SqlLatestMetric.run_uuid == self.run_id).delete()
            session.add_all([SqlLatestMetric(key=m.key, value=m.value, timestamp=m.timestamp, step=m.step,
                                             is_nan=m.is_nan, run_uuid=self.run_id) for m in latest.values()])
        store.engine.dispose()
        return int(dropped)

    def child_runs(self) -> dict[str, tuple[str, str]]:
        """This run's nested runs by name: ``{name: (run id, status)}`` (the last created
        for a name), so that a rerun asks MLflow, not only its own notes, what it logged."""
        found: dict[str, tuple[str, str, int]] = {}
        token = None
        while True:
            page = self.client.search_runs([self.experiment_id], f"tags.mlflow.parentRunId = '{self.run_id}'",
                                           max_results=1000, page_token=token)
            for run in page:
                name, start = run.info.run_name, run.info.start_time or 0
                if name not in found or start >= found[name][2]:
                    found[name] = (run.info.run_id, run.info.status, start)
            token = page.token
            if not token:
                return {name: (run_id, status) for name, (run_id, status, _) in found.items()}

    def delete_run(self, run_id: str) -> None:
        self.client.delete_run(run_id)

    def log_artifact(self, path: str | Path, artifact_path: str | None = None) -> None:
        path = Path(path)
        if path.is_dir():
            self.client.log_artifacts(self.run_id, str(path), artifact_path)
        else:
            self.client.log_artifact(self.run_id, str(path), artifact_path)

    def finish(self, status: str = "FINISHED") -> None:
        self.client.set_terminated(self.run_id, status)
