"""Fixtures shared by every test package."""

from __future__ import annotations

import os

import pytest

from audiorouter.tool_execution.numba_cache import use_private_cache

# This process, and what it starts (CLI subprocesses, Ray workers), reads the kernels that
# `make setup` compiled, from a private copy as a tool process does, instead of compiling
# librosa's kernels once more into the venv (~35 s of a fresh clone's suite). Tests of a
# cold cache point NUMBA_CACHE_DIR elsewhere and drop SHARED_ENV (tests/tool_execution/numba_processes.py).
use_private_cache()


@pytest.fixture(scope="module")
def ray_session():
    """One local Ray session per test module (2 CPUs, no dashboard, loopback only)."""
    import ray

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="session")
def tiny_causal_lm(tmp_path_factory) -> str:
    """A tiny randomly initialised causal LM (Qwen2 shape, byte tokenizer): the router LM of tests."""
    from audiorouter.testing.synthetic_models import save_synthetic_model

    return str(save_synthetic_model("causal_lm", tmp_path_factory.mktemp("tiny_causal_lm")))
