"""The result cache and the in-process runner (no Ray here)."""

from __future__ import annotations

import multiprocessing
import pickle
import time

import numpy as np
from tool_doubles import COUNT_FILE_ENV, PATH, calls
from tool_signals import SR, tone

from audiorouter.contracts import ToolResult
from audiorouter.store.tool_cache import ToolCache
from audiorouter.tool_execution.runner import ToolRunner
from audiorouter.tools.inputs import ClipLimits, clip_key


def _writer(directory: str, worker: int, count: int) -> None:
    cache = ToolCache(directory)
    for i in range(count):
        cache.put(f"clip{i}", ToolResult(tool=f"tool{worker}", version="1", ok=True, summary=f"{worker}:{i}"))


def test_put_get_versions_and_counters(tmp_path):
    cache = ToolCache(tmp_path)
    result = ToolResult(tool="pitch", version="1", ok=True, summary="median pitch 440.0 Hz (A4)", data={"x": [1.5]})
    assert cache.get("abc", "pitch", "1") is None
    cache.put("abc", result)
    assert cache.get("abc", "pitch", "1") == result
    assert cache.get("abc", "pitch", "2") is None  # a new tool version never reads old results
    cache.put("abc", ToolResult(tool="pitch", version="1", ok=False, error="timeout"))  # failures are not kept
    assert cache.get("abc", "pitch", "1") == result
    assert cache.stats() == {"hits": 2, "misses": 2, "writes": 1}
    assert pickle.loads(pickle.dumps(cache)).get("abc", "pitch", "1") == result  # shared across processes


def test_concurrent_processes_share_one_cache(tmp_path):
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_writer, args=(str(tmp_path), w, 40)) for w in range(3)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(60)
        assert process.exitcode == 0
    cache = ToolCache(tmp_path)
    assert cache.count() == 120
    assert cache.get("clip39", "tool2", "1").summary == "2:39"


def test_clip_key_depends_on_content_rate_and_cut():
    wave, limits = tone(), ClipLimits()
    assert clip_key(wave, SR, limits) == clip_key(wave.copy(), SR, limits)
    assert clip_key(wave, SR, limits) != clip_key(wave * 0.5, SR, limits)
    assert clip_key(wave, SR, limits) != clip_key(wave, 22050, limits)
    assert clip_key(wave, SR, ClipLimits(max_duration_s=1.0)) != clip_key(wave, SR, limits)


def test_second_run_computes_nothing(tmp_path, monkeypatch):
    count_file = tmp_path / "calls.txt"
    monkeypatch.setenv(COUNT_FILE_ENV, str(count_file))  # the tool runs in the runner's child process
    runner = ToolRunner(cache=ToolCache(tmp_path), plugins=(PATH,))
    clips = [tone(hz) for hz in (220.0, 330.0, 440.0)]
    first = [runner.run_with_cache_flags(c, SR, ["counting", "segments"]) for c in clips]
    assert calls(count_file) == 3 and not any(cached for row in first for _, cached in row)
    again = ToolRunner(cache=ToolCache(tmp_path), plugins=(PATH,))  # a new run (a new process would do the same)
    second = [again.run_with_cache_flags(c, SR, ["counting", "segments"]) for c in clips]
    assert calls(count_file) == 3, "nothing was recomputed"
    assert all(cached for row in second for _, cached in row)
    assert [r for row in second for r, _ in row] == [r for row in first for r, _ in row]
    assert again.cache.stats() == {"hits": 6, "misses": 0, "writes": 0}
    assert again.process.starts == 0, "an all-cached run starts no tool process"
    runner.close()


def test_runner_isolates_failures_and_hangs(tmp_path):
    # the call after the kill pays a fresh tool process its first loads: 15 s, not 1 s
    runner = ToolRunner(cache=ToolCache(tmp_path), timeout_s=15.0)
    start = time.monotonic()
    results = runner.run(tone(), SR, ["fault_hang", "segments", "fault_raise", "no_such_tool", "loudness"])
    assert time.monotonic() - start < 120.0, "the hang was killed at its limit"
    hang, segments, raised, unknown, loudness = results
    assert not hang.ok and hang.error == "timeout: no result within 15 s"
    assert not runner.health.crashes, "a timeout is not a crash"
    assert not raised.ok and "injected failure" in raised.error
    assert not unknown.ok and "unknown tool" in unknown.error
    assert segments.ok and loudness.ok
    assert runner.cache.count() == 2  # only the successes were stored


def test_runner_reports_bad_clips_per_tool(tmp_path):
    runner = ToolRunner(cache=ToolCache(tmp_path))
    for bad, error in ((np.array([np.nan] * 100, dtype=np.float32), "NaN/inf"), (np.zeros(0), "no samples")):
        results = runner.run(bad, SR, ["segments", "pitch"])
        assert [r.ok for r in results] == [False, False] and all(error in r.error for r in results)


def test_batched_reads_and_writes_match_single_ones(tmp_path):
    cache = ToolCache(tmp_path)
    good = ToolResult(tool="pitch", version="1", ok=True, summary="A4")
    bad = ToolResult(tool="tempo", version="1", ok=False, error="timeout")
    cache.put_many([(("c1", "pitch", "1"), good), (("c1", "tempo", "1"), bad)])
    assert cache.get_many([("c1", "pitch", "1"), ("c1", "tempo", "1"), ("c2", "pitch", "1")]) == {("c1", "pitch", "1"): good}
    assert cache.count() == 1 and cache.stats()["writes"] == 1
    assert ToolCache(tmp_path).get("c1", "pitch", "1") == good  # committed, visible to another connection
