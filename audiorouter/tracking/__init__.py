"""Experiment tracking with MLflow, from the driver only (``mlflow_tracker.Tracker``;
``store_file`` checks the local store's file without importing MLflow).

Imports nothing of the package but ``config`` and ``state_files``.
"""
