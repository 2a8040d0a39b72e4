"""Each core tool against the perception suite's exact ground truth.

Five items per difficulty level (easy/medium/hard: noise beds at 30/20/10 dB SNR,
closer distractors) of the family each tool answers. Thresholds are what the
measurements (benchmarks/bench_tools.py, 30-40 items per level) support with a
margin; where a tool was exact there, the test still allows one miss in ten.
"""

from __future__ import annotations

import numpy as np
import pytest
from tool_signals import SR, fake_speech, family_clips, tone

import audiorouter.tools as tools
from audiorouter.tools.accuracy import FAMILY_TOOL, is_correct

PER_LEVEL = 5


def run(family: str):
    """(result, meta, level) per item of ``family``, from the tool that answers it."""
    tool = tools.get_tool(FAMILY_TOOL[family])
    return [(tool.run(w, sr), meta, level) for w, sr, meta, level in family_clips(family, PER_LEVEL)]


def assert_rate(family: str, runs: list, minimum: float) -> None:
    checks = [(is_correct(family, r, meta), f"{level}: {meta} -> {r.summary or r.error}") for r, meta, level in runs]
    passed = sum(ok for ok, _ in checks)
    failures = [why for ok, why in checks if not ok]
    assert passed >= minimum * len(checks), f"{family}: {passed}/{len(checks)} passed; failures: {failures}"


def test_pitch_names_the_held_note():
    runs = run("note_name")
    cents = [1200 * abs(np.log2(r.data["median_hz"] / meta["f0_hz"])) for r, meta, _ in runs]
    assert max(cents) < 100, "median pitch must be within a semitone on every item"
    assert_rate("note_name", runs, 0.9)


@pytest.mark.parametrize("family", ["interval", "sweep_direction", "chord_quality", "brightness_compare",
                                    "duration", "gap_position"])
def test_tool_answers_its_family(family):
    assert_rate(family, run(family), 0.9)


def test_tempo_within_four_percent_with_beats_on_time():
    runs = run("tempo")
    assert_rate("tempo", runs, 0.9)
    for result, meta, _ in runs:
        if is_correct("tempo", result, meta):
            nearest = np.abs(np.subtract.outer(result.data["beat_times_s"], meta["beat_times_s"])).min(axis=1)
            assert np.median(nearest) < 0.05, "beats fall on the true beat times"


@pytest.mark.parametrize("family", ["event_count", "note_count"])
def test_onsets_count_events_exactly_and_on_time(family):
    runs = run(family)
    assert_rate(family, runs, 0.9)
    for result, meta, _ in runs:
        if is_correct(family, result, meta):
            assert np.allclose(result.data["onsets_s"], meta["onsets_s"], atol=0.05)


def test_loudness_picks_the_louder_sound_and_measures_the_difference():
    runs = run("loudness_compare")
    assert_rate("loudness_compare", runs, 0.9)
    for result, meta, _ in runs:
        if is_correct("loudness_compare", result, meta):
            first, second = (s["lufs"] for s in result.data["segments"])
            assert second - first == pytest.approx(meta["levels_db"][1] - meta["levels_db"][0], abs=1.5)


def test_speech_activity_finds_speech_and_only_speech():
    wave = np.zeros(6 * SR, dtype=np.float32)
    wave[SR: 4 * SR] = fake_speech(3.0)
    result = tools.get_tool("speech").run(wave, SR)
    (segment,) = result.data["segments"]
    assert segment["start_s"] == pytest.approx(1.0, abs=0.15) and segment["end_s"] == pytest.approx(4.0, abs=0.15)
    assert result.summary.startswith("speech 1.")
    noise = np.random.default_rng(0).standard_normal(3 * SR).astype(np.float32) * 0.1
    for clip in (tone(), noise):
        assert tools.get_tool("speech").run(clip, SR).summary == "no speech"


@pytest.mark.skipif(tools.TOOLS.get("sound_tags").unavailable_reason() is not None, reason="YAMNet not installed")
def test_sound_tags_label_noise_offline():
    noise = np.random.default_rng(0).standard_normal(3 * SR).astype(np.float32) * 0.1
    result = tools.get_tool("sound_tags").run(noise, SR)
    assert result.ok and any("noise" in t["label"].lower() for t in result.data["top"][:3]), result.summary
    assert result.data["timeline"][1]["start_s"] == pytest.approx(0.48)


@pytest.mark.skipif(tools.TOOLS.get("transcribe").unavailable_reason() is not None, reason="whisper weights missing")
def test_transcribe_runs_offline_and_stays_quiet_on_tones(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = tools.get_tool("transcribe").run(tone(seconds=3.0), SR)
    assert result.ok, result.error
    assert result.summary == "no words recognised" and result.data["words"] == []
