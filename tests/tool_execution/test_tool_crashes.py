"""A tool that crashes its process costs one call, a bounded number of times, then is
disabled; the other tools of the same clip are unaffected (no Ray here: the in-place
runner used by rollout workers, the Serve app and the inference tools stage)."""

from __future__ import annotations

import numpy as np
from tool_doubles import CRASH_DIR_ENV, PATH

from audiorouter.tool_execution.runner import ToolRunner
from audiorouter.tools.probe_signals import SR, pure_tone


def test_a_segfaulting_tool_becomes_an_error_result_then_is_disabled():
    runner = ToolRunner(timeout_s=60.0, max_crashes=2, plugins=(PATH,))
    first = runner.run(pure_tone(), SR, ["segments", "segfault", "loudness"])
    assert first[0].ok and first[2].ok, "the other tools of the clip still ran"
    assert not first[1].ok and first[1].tool == "segfault"
    assert "crashed" in first[1].error and "SIGSEGV" in first[1].error
    assert runner.health.disabled == {}
    second = runner.run(pure_tone(), SR, ["segfault"])[0]
    assert "SIGSEGV" in second.error
    assert "segfault" in runner.health.disabled and "SIGSEGV" in runner.health.disabled["segfault"]
    third = runner.run(pure_tone(), SR, ["segfault", "segments"])
    assert "disabled" in third[0].error and "crashed 2 times" in third[0].error
    assert third[1].ok and runner.health.crashes["segfault"] == 2, "a disabled tool never runs again"
    runner.close()


def test_a_tool_that_crashed_once_works_in_the_replacement_process(tmp_path, monkeypatch):
    monkeypatch.setenv(CRASH_DIR_ENV, str(tmp_path))  # before the runner starts its process
    runner = ToolRunner(timeout_s=60.0, max_crashes=3, plugins=(PATH,))
    clip = (np.random.default_rng().standard_normal(SR) * 0.1).astype(np.float32)  # a clip never seen
    crashed, = runner.run(clip, SR, ["crash_once"])
    recovered, = runner.run(clip, SR, ["crash_once"])
    assert "crashed" in crashed.error
    assert recovered.ok and recovered.summary.startswith("peak")
    assert runner.health.crashes["crash_once"] == 1 and not runner.health.disabled
    runner.close()

