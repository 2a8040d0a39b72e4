"""Experiment tracking with MLflow, from the driver only (``mlflow_tracker.Tracker``).

Imports nothing of the package but ``config``.
"""
