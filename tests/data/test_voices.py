"""The real-instruments voices: the same families played on a General MIDI SoundFont through
FluidSynth, in a stated room, with the truth the rendering parameters give. Tests that
render need libfluidsynth and fluid-soundfont-gm (``make setup`` installs them as root)."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from audiorouter.config import StudyConfig
from audiorouter.data.audio_io import decode_audio
from audiorouter.data.synth import make_item
from audiorouter.data.synth.base import family_names, get_family
from audiorouter.data.synth.instruments import SR, rms
from audiorouter.data.synth.voices import ROOM, room, voices_unavailable_reason
from audiorouter.study import dataset
from audiorouter.study.methods.catalog import data_sizes
from audiorouter.tools.accuracy import FAMILY_TOOL, is_correct
from audiorouter.tools.base import run_tool

MISSING = voices_unavailable_reason("soundfont")
needs_soundfont = pytest.mark.skipif(MISSING is not None, reason=f"real instruments unavailable: {MISSING}")
PLAYABLE = [name for name in family_names() if get_family(name).real_instruments]


def test_the_music_and_sound_families_are_playable_but_brightness_and_speech_are_not():
    assert set(PLAYABLE) == {"note_name", "interval", "note_count", "tempo", "chord_quality", "event_count",
                             "duration", "loudness_compare", "sweep_direction", "gap_position"}


@needs_soundfont
@pytest.mark.parametrize("family", PLAYABLE)
def test_an_item_is_the_same_whenever_it_is_made_and_says_what_played_it(family):
    first, again = make_item(family, 4, 5, voices="soundfont"), make_item(family, 4, 5, voices="soundfont")
    assert first.audio == again.audio and first.id == again.id and first.id.endswith("-gm")
    assert first.meta["played_on"] == {"voices": "soundfont", "soundfont": "FluidR3_GM.sf2", **ROOM}
    synthetic = make_item(family, 4, 5)
    assert "played_on" not in synthetic.meta and synthetic.audio != first.audio
    waveform, _ = decode_audio(first.audio)
    assert np.all(np.isfinite(waveform)) and 0.1 < np.max(np.abs(waveform)) <= 1.0


@needs_soundfont
def test_a_family_without_an_exact_control_is_refused():
    with pytest.raises(ValueError, match="brightness_compare.*cannot be played on soundfont"):
        make_item("brightness_compare", 0, 5, voices="soundfont")


@needs_soundfont
@pytest.mark.parametrize("family", PLAYABLE)
def test_the_matching_tool_reads_the_truth_the_rendering_parameters_state(family):
    """Wrong truth (a note cut early, a drum on the wrong beat, a level applied twice) would
    show as the family's own tool disagreeing with it. The tools are right on most items
    (12 per family measured: 9-12 of 12 on the SoundFont, 12 of 12 on the synthetic voices;
    the chord tool misreads some sampled-piano triads as their relative major or minor)."""
    tool = FAMILY_TOOL[family]
    right = 0
    for index in range(8):
        item = make_item(family, index, 21, voices="soundfont")
        right += is_correct(family, run_tool(tool, *decode_audio(item.audio), None), item.meta)
    assert right >= 5, f"{family}: {tool} right on {right} of 8 SoundFont items"


def test_the_room_adds_a_tail_at_the_stated_level_and_keeps_the_length():
    dry = np.zeros(SR)
    dry[1000:1400] = np.sin(np.arange(400) / 3.0)
    wet = room(dry, np.random.default_rng(0))
    assert wet.size == dry.size and np.allclose(wet[:1000], 0, atol=1e-12)  # causal: nothing before the sound
    tail = wet - dry
    assert rms(tail) / rms(dry) == pytest.approx(10 ** (ROOM["reverb_db"] / 20), rel=1e-6)
    late = int((1400 / SR + ROOM["rt60_s"] / 2) * SR)  # half an RT60 after the sound: about 30 dB down
    assert np.max(np.abs(tail[late:])) < 0.1 * np.max(np.abs(tail))


def study_plan(study: StudyConfig, families: list[str]) -> dict:
    """The generator's plan for the sizes the study's methods need (the method registry's)."""
    sizes = data_sizes(study)
    return dataset.plan(study, families, sizes["train_items"], sizes["pool_items"])


def test_the_study_leaves_the_split_out_with_a_message_where_it_cannot_be_played(monkeypatch, caplog):
    study = StudyConfig(families=["tempo", "word_count"], ood_splits=["reworded", "instruments"])
    monkeypatch.setattr(dataset, "voices_unavailable_reason", lambda voices: None)
    with caplog.at_level(logging.WARNING):
        played = study_plan(study, ["tempo", "word_count"])
    assert played["voiced"] == {"instruments": {"voices": "soundfont", "families": ["tempo"]}}
    assert list(played["splits"]) == ["pool", "train", "validation", "test", "reworded", "instruments"]
    assert "no items of word_count" in caplog.text
    monkeypatch.setattr(dataset, "voices_unavailable_reason", lambda voices: "the FluidSynth library is missing")
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        missing = study_plan(study, ["tempo", "word_count"])
    assert "instruments" not in missing["splits"] and "voiced" not in missing
    assert "split 'instruments' left out: the FluidSynth library is missing" in caplog.text
    alone = StudyConfig(families=["tempo"], ood_splits=["reworded"])
    without = study_plan(alone, ["tempo"])
    assert "voiced" not in without  # a plan without the split is as before it existed
