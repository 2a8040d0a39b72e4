"""The tool contract: registry, result wrapping, and what bad input becomes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from tool_signals import SR, tone

import audiorouter.tools as tools
from audiorouter.config import ConfigError, ToolsConfig, load_config
from audiorouter.data.audio_io import Clip
from audiorouter.tools.base import SILENT_SUMMARY, TOOLS, Tool, close_tools, register_tool
from audiorouter.tools.inputs import ClipLimits, note_window

CORE = ["chords", "loudness", "onsets", "pitch", "segments", "spectral", "speech", "tempo"]
FAST = ["loudness", "onsets", "segments", "spectral"]  # cheap tools for input-handling checks


def test_core_tools_are_registered_with_descriptions():
    assert set(CORE) <= set(tools.available_tools())
    for row in tools.describe_tools():
        assert row["version"] and row["description"] and "\n" not in row["description"]
    assert "fault_raise" not in tools.available_tools()  # hidden tools are never "all"


def test_resolve_tools_all_list_and_unknown():
    assert tools.resolve_tools("all") == tools.available_tools() == tools.resolve_tools([])
    assert tools.resolve_tools("pitch, tempo,pitch") == ["pitch", "tempo"]
    with pytest.raises(ConfigError, match="unknown tool 'pitchh'.*valid: all, .*pitch"):
        tools.resolve_tools("pitchh")


def test_adding_a_tool_is_one_class_and_one_registration():
    @register_tool
    class Peak(Tool):
        name, version, description = "test_peak", "1", "peak level in dBFS"

        def analyse(self, waveform, sample_rate):
            db = 20 * np.log10(np.abs(waveform).max())
            return f"peak {db:.1f} dBFS", {"peak_dbfs": np.float32(db), "curve": np.array([np.nan, 1.0])}

    try:
        result = tools.get_tool("test_peak").run(tone(amplitude=0.5), SR)
        assert result.ok and result.summary == "peak -6.0 dBFS" and result.elapsed_ms > 0
        assert result.data["curve"] == [None, 1.0]  # JSON-able: numpy to Python, NaN to None
        json.dumps(result.data, allow_nan=False)
        assert "test_peak" in tools.tool_names() and TOOLS.get("test_peak") is Peak
        with pytest.raises(ValueError, match="tool 'test_peak' is already registered by Peak"):
            register_tool(type("Other", (Peak,), {}))
    finally:
        TOOLS.unregister("test_peak")
        close_tools()


def test_an_exception_becomes_an_error_result():
    result = tools.get_tool("fault_raise").run(tone(), SR)
    assert not result.ok and result.error == "RuntimeError: injected failure" and result.summary == ""


@pytest.mark.parametrize("name", FAST)
def test_bad_input_outcomes(name):
    tool = tools.get_tool(name)
    assert tool.run(np.zeros(0, dtype=np.float32), SR).error == "AudioError: audio has no samples"
    broken = tone()
    broken[100:103] = [np.nan, np.inf, -np.inf]
    assert tool.run(broken, SR).error == "AudioError: audio has 3 NaN/inf samples"
    assert "sample rate must be a positive integer" in tool.run(tone(), 0).error
    silent = tool.run(np.zeros(SR, dtype=np.float32), SR)
    assert silent.ok and silent.summary == SILENT_SUMMARY and silent.data["silent"]


@pytest.mark.parametrize("name", CORE)
def test_every_core_tool_handles_silence_and_clipping(name):
    tool = tools.get_tool(name)
    assert tool.run(np.zeros(SR, dtype=np.float32), SR).summary == SILENT_SUMMARY
    clipped = np.clip(tone(amplitude=3.0), -1.0, 1.0)
    result = tool.run(clipped, SR)
    assert result.ok, result.error
    assert result.summary.endswith("(input clipped)") and result.data["input"]["clipped_fraction"] > 0.5


def test_long_clips_are_truncated_or_refused():
    long_clip = tone(seconds=5.0)
    cut = tools.get_tool("segments").run(long_clip, SR, ClipLimits(max_duration_s=2.0))
    assert cut.ok and cut.data["input"] == {"duration_s": 2.0, "truncated_from_s": 5.0}
    assert cut.summary.endswith("(first 2 s of 5.0 s analysed)")
    refused = tools.get_tool("segments").run(long_clip, SR, ClipLimits(max_duration_s=2.0, long_clips="error"))
    assert not refused.ok and "exceeds the limit of 2 s" in refused.error


def test_a_window_read_from_a_longer_file_is_noted_as_a_cut():
    """A file read by its window (``read_clip``) reaches the tool no longer than the cap;
    ``note_window`` says what a cut of the whole clip says, or that the length is unknown."""
    limits = ClipLimits(max_duration_s=2.0)
    cut = tools.get_tool("segments").run(tone(seconds=5.0), SR, limits)
    window = tone(seconds=2.0)
    on_window = tools.get_tool("segments").run(window, SR, limits)
    noted = note_window(on_window, Clip(window, SR, 5.0, True))
    assert (noted.summary, noted.data) == (cut.summary, cut.data)
    unstated = note_window(on_window, Clip(window, SR, None, True))
    assert unstated.data["input"]["truncated_from_s"] is None
    assert unstated.summary.endswith("(first 2 s analysed; the file does not state its length)")
    assert note_window(on_window, Clip(window, SR, 2.0, False)) is on_window


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000])
def test_other_sample_rates_are_resampled(rate):
    t = np.arange(int(1.5 * rate)) / rate
    wave = np.zeros(int(3 * rate), dtype=np.float32)
    wave[int(0.5 * rate): int(0.5 * rate) + t.size] = 0.3 * np.sin(2 * np.pi * 440 * t)
    result = tools.get_tool("segments").run(wave, rate)
    (segment,) = result.data["segments"]
    assert segment["start_s"] == pytest.approx(0.5, abs=0.04) and segment["end_s"] == pytest.approx(2.0, abs=0.04)
    stereo = tools.get_tool("segments").run(np.stack([wave, wave]), rate)  # (channels, n) is averaged
    assert stereo.data["segments"] == result.data["segments"]


def test_tools_config_defaults_and_validation():
    assert load_config().tools == ToolsConfig()
    cfg = load_config(None, ["tools.timeout_s=5", "tools.enabled=[pitch, tempo]"])
    assert cfg.tools.timeout_s == 5.0 and cfg.tools.enabled == ["pitch", "tempo"]
    with pytest.raises(ConfigError, match="tools.long_clips"):
        load_config(None, ["tools.long_clips=skip"])
    with pytest.raises(ConfigError, match="tools.num_actors"):
        load_config(None, ["tools.num_actors=0"])
    with pytest.raises(ConfigError, match="valid keys at tools."):
        load_config(None, ["tools.workers=2"])


def test_resolving_the_tools_keeps_torch_on_every_thread():
    """silero_vad's import sets torch to one thread: asking whether the speech tool can run
    must not import it (a fresh process: this one may have imported it already)."""
    code = ("import torch; torch.set_num_threads(2); from audiorouter.tools import resolve_tools; "
            "tools = resolve_tools(None); print(torch.get_num_threads(), 'speech' in tools)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env={"HF_HUB_OFFLINE": "1", "PATH": ""})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[0] == "2", out.stdout


def test_a_tool_process_running_librosa_tools_never_imports_torch():
    """Every tool process imports every built-in tool's module; torch (about 2 s of each
    process's start) must come only with the one tool that uses it, the speech tool's model."""
    code = ("import sys; from audiorouter.tool_execution.numba_cache import use_private_cache; use_private_cache(); "
            "from audiorouter.tools import get_tool, resolve_tools; from audiorouter.tools.probe_signals "
            "import SR, drum_pattern; resolve_tools(None); assert get_tool('tempo').run(drum_pattern(), SR).ok; "
            "print('torch' in sys.modules)")
    # this process's environment names the warm kernel cache the child copies (conftest.py)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env=os.environ | {"HF_HUB_OFFLINE": "1"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["False"], out.stdout  # the speech tool's own tests run it with torch
