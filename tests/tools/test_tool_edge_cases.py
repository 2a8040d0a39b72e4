"""Every registered tool on edge-case signals, in a child process: a segfault or a hang
fails the test naming the tool and the signal, instead of killing pytest."""

from __future__ import annotations

import pytest

from audiorouter.tool_execution.runner import ToolRunner
from audiorouter.tools import available_tools
from audiorouter.tools.probe_signals import EDGE_CASES, SR

TIMEOUT_S = 600.0  # generous: the 60 s clip on 2 cores, a hang still ends


@pytest.fixture(scope="module")
def runner():
    tools = ToolRunner(timeout_s=TIMEOUT_S, max_crashes=1 << 30)
    yield tools
    tools.close()


@pytest.fixture(scope="module")
def signals():
    return {name: make() for name, make in EDGE_CASES.items()}


@pytest.mark.parametrize("signal", list(EDGE_CASES))
@pytest.mark.parametrize("tool", available_tools())
def test_tool_survives_signal(runner, signals, tool, signal):
    result, crashed = runner.call(tool, signals[signal], SR)
    assert not crashed, f"tool {tool} crashed its process on {signal}: {result.error}"
    assert result.ok, f"tool {tool} failed on {signal}: {result.error}"
    assert result.summary.strip(), f"tool {tool} gave an empty summary on {signal}"
    if signal == "digital_silence":
        assert result.data.get("silent") is True
    if signal == "full_scale_clipping":
        assert "(input clipped)" in result.summary
