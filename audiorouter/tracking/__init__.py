"""Experiment tracking with MLflow, from drivers only (``mlflow_tracker.Tracker``).
Imports nothing of the package but ``config`` and ``state_files``.
"""
