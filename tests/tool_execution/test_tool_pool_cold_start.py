"""The executor pool on a cold numba cache, with a tool that segfaults while warming up
and during calls: the pool starts, the tool is disabled with its cause, the others work.

``NUMBA_CACHE_DIR`` points at a new folder before Ray starts, so the actors' tool
processes see the same empty cache as this driver (the situation of a fresh machine).
"""

from __future__ import annotations

import os

import pytest
from numba_processes import env_with_shared_folder, start_together
from tool_doubles import PATH

from audiorouter.config import ToolsConfig
from audiorouter.tool_execution.executor import ToolExecutorPool
from audiorouter.tool_execution.numba_cache import SHARED_ENV
from audiorouter.tools.probe_signals import SR, drum_pattern, note_phrase

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cold_numba_cache(tmp_path_factory):
    folder = tmp_path_factory.mktemp("numba-cold")
    previous = {name: os.environ.get(name) for name in ("NUMBA_CACHE_DIR", SHARED_ENV)}
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
    os.environ.pop(SHARED_ENV, None)  # the warm folder conftest.py copied would take precedence
    yield folder
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="module")
def pool(cold_numba_cache, ray_session, tmp_path_factory):  # the cold cache before Ray starts
    config = ToolsConfig(cache_dir=str(tmp_path_factory.mktemp("cache")), timeout_s=60.0, num_actors=2,
                         actor_num_cpus=0.5, max_crashes=2, plugins=[PATH])
    executors = ToolExecutorPool(config, warm=["tempo", "onsets", "pitch", "segfault"])
    yield executors
    executors.shutdown()


def test_the_pool_starts_on_a_cold_cache_and_disables_the_crashing_tool(pool, cold_numba_cache):
    assert list(cold_numba_cache.glob(".warm-*")), "the kernels were compiled once, before the actors"
    assert pool.stats.crashes == 2, "each of the two actors saw the warm-up crash"
    assert "segfault" in pool.disabled and "SIGSEGV" in pool.disabled["segfault"]
    rows = pool.run_many([(drum_pattern(), SR), (note_phrase(), SR)], ["tempo", "onsets", "pitch", "segfault"])
    for tempo, onsets, pitch, crashed in rows:
        assert tempo.ok and onsets.ok and pitch.ok
        assert not crashed.ok and "disabled" in crashed.error and "SIGSEGV" in crashed.error
    assert pool.stats.actor_restarts == 0, "a crashing tool costs its tool process, not the actor"


def test_tool_processes_start_from_the_warm_up_copy_and_only_read_the_shared_folder(pool, cold_numba_cache):
    """The folder the pool's warm-up compiled (once, cold, as ``make setup`` does with
    ``--ensure``): tool processes starting together copy it and add nothing to it."""
    assert any(cold_numba_cache.rglob("guf-beat.*.nbi"))
    compiled = {p.name for p in cold_numba_cache.rglob("*.nbc")}
    env = env_with_shared_folder(cold_numba_cache)
    for done in start_together(env):
        assert done.returncode == 0, done.stderr[-3000:]
    assert {p.name for p in cold_numba_cache.rglob("*.nbc")} == compiled, "the shared folder was only read"
