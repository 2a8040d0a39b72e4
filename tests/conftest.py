"""Fixtures shared by every test package."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="module")
def ray_session():
    """One local Ray session per test module (2 CPUs, no dashboard, loopback only)."""
    import ray

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()
