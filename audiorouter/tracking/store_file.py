"""The local MLflow store's file, checked without importing MLflow (6 s on a slow
machine): a damaged one is reported before a job's heavy imports and work."""

from __future__ import annotations

from pathlib import Path

from audiorouter.config import TrackingConfig
from audiorouter.state_files import check_sqlite_file


def check_tracking_store(config: TrackingConfig) -> None:
    """A damaged local sqlite store is a StateFileError now, not an SQLAlchemy traceback later."""
    uri = config.tracking_uri
    path = Path(uri) if "://" not in uri else Path(uri[len("sqlite:///"):]) if uri.startswith("sqlite:///") else None
    if path is not None:
        check_sqlite_file(path, "MLflow store (tracking.tracking_uri)",
                          "It holds the history of your runs: restore it from a backup, or --set "
                          "tracking.tracking_uri=... to start a new store", thorough=True)
