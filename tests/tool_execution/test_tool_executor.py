"""Tool-executor actors on a local Ray session (one per module)."""

from __future__ import annotations

import time

import numpy as np
import pytest
import ray
from tool_signals import SR, tone

from audiorouter.config import ToolsConfig
from audiorouter.store.tool_cache import ToolCache
from audiorouter.tool_execution.executor import ToolExecutorPool

TIMEOUT_S = 10.0  # a call after a kill pays a fresh tool process its first loads


@pytest.fixture(scope="module")
def pool(ray_session, tmp_path_factory):
    config = ToolsConfig(cache_dir=str(tmp_path_factory.mktemp("cache")), timeout_s=TIMEOUT_S,
                         num_actors=2, actor_num_cpus=0.5)
    executors = ToolExecutorPool(config, warm=["segments", "loudness", "onsets"])  # outside any deadline
    yield executors
    executors.shutdown()


def test_a_raising_and_a_hanging_tool_fail_alone(pool):
    start = time.monotonic()
    results = pool.run(tone(), SR, ["segments", "fault_raise", "fault_hang", "loudness", "onsets"])
    elapsed = time.monotonic() - start
    segments, raised, hung, loudness, onsets = results
    assert segments.ok and loudness.ok and onsets.ok
    assert not raised.ok and raised.error == "RuntimeError: injected failure"
    assert not hung.ok and hung.error == f"timeout: no result within {TIMEOUT_S:g} s"
    assert elapsed < TIMEOUT_S + 30
    assert pool.stats.timeouts >= 1 and pool.stats.crashes == 0, "a timeout kills the tool process only"
    again = pool.run(tone(330.0), SR, ["segments", "onsets"])  # the replaced actor works
    assert all(r.ok for r in again)


def test_bad_clips_become_error_results(pool):
    nan = tone()
    nan[5] = np.nan
    rows = pool.run_many([(nan, SR), (np.zeros(0, dtype=np.float32), SR), (tone(), SR)], ["segments"])
    assert "NaN/inf" in rows[0][0].error and "no samples" in rows[1][0].error and rows[2][0].ok


def test_each_clip_goes_to_the_object_store_once(pool, monkeypatch):
    puts = []
    real_put = ray.put
    monkeypatch.setattr(ray, "put", lambda value, **kw: puts.append(value) or real_put(value, **kw))
    clips = [(tone(hz), SR) for hz in (500.0, 600.0)]
    rows = pool.run_many(clips, ["segments", "loudness", "onsets"])
    assert len(puts) == 2 and all(r.ok for row in rows for r in row)


def test_cached_results_are_not_recomputed(pool):
    clips = [(tone(hz), SR) for hz in (700.0, 800.0, 900.0)]
    first = pool.run_many(clips, ["segments", "loudness"])
    computed, hits = pool.stats.computed, pool.cache.hits
    second = pool.run_many_with_cache_flags(clips, ["segments", "loudness"])
    assert pool.stats.computed == computed, "the second run computed nothing"
    assert pool.cache.hits == hits + 6
    assert [[result for result, _ in row] for row in second] == first
    assert all(cached for row in second for _, cached in row)
    other_process_view = ToolCache(pool.config.cache_dir)  # persisted on disk
    assert other_process_view.count() >= 6
