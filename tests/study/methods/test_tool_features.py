"""tools-supervised's inputs: every tool's structured output flattened into numbers
(the head that learns from them is tested in test_internalise)."""

from __future__ import annotations

import math

import pytest

from audiorouter.contracts import ToolResult
from audiorouter.study.methods.tool_features import (
    MAX_LABELS,
    ToolVectoriser,
    flatten_results,
    load_tool_fields,
    save_tool_fields,
)

TEMPO = ToolResult("tempo", "1", True, "tempo 133 BPM", {"bpm": 133.0, "beat_times_s": [0.2, 0.65, 1.1],
                                                          "input": {"duration_s": 6.5}})
PITCH = ToolResult("pitch", "1", True, "", {"median_note": "F#4", "notes": [
    {"start_s": 0.16, "midi": 67.85, "note": "G#4"}, {"start_s": 0.62, "midi": 69.59, "note": "A#4"}]})
BROKEN = ToolResult("chords", "1", False, "error: boom", {"error": "boom"})


def test_flattening_keeps_numbers_labels_lists_and_failures():
    fields = flatten_results([TEMPO, PITCH, BROKEN])
    assert fields["tempo.ok"] == 1.0 and fields["tempo.bpm"] == 133.0 and fields["tempo.input.duration_s"] == 6.5
    assert fields["tempo.beat_times_s#count"] == 3.0 and fields["tempo.beat_times_s[]#max"] == 1.1
    assert fields["tempo.beat_times_s[]@1"] == 0.65  # the first elements, in order
    assert fields["pitch.median_note"] == "F#4" and fields["pitch.notes[].note@1"] == "A#4"
    assert fields["pitch.notes[].midi#mean"] == pytest.approx((67.85 + 69.59) / 2)
    assert fields["chords.ok"] == 0.0 and not any(k.startswith("chords.") and k != "chords.ok" for k in fields)
    assert not any(isinstance(v, float) and not math.isfinite(v) for v in fields.values())


def test_vectoriser_uses_what_training_saw_only():
    train = [{"tempo.bpm": 120.0, "pitch.median_note": "A4"}, {"tempo.bpm": 60.0, "pitch.median_note": "C4"}]
    vectoriser = ToolVectoriser.fit(train)
    assert vectoriser.numeric == ["tempo.bpm"] and vectoriser.dim == 2 + 2
    row = vectoriser.transform([{"tempo.bpm": -3.0, "pitch.median_note": "A4", "new.field": 1.0,
                                 "pitch.other": "x"}])[0]
    assert row.tolist() == pytest.approx([-math.log1p(3.0), 1.0, 1.0, 0.0])  # signed log, present, A4, not C4
    assert vectoriser.transform([{}])[0].tolist() == [0.0] * 4  # a failed tool: nothing present


def test_rare_labels_are_capped_per_field():
    train = [{"tags.top": f"label{k % (MAX_LABELS + 10)}"} for k in range(1000)]
    assert len(ToolVectoriser.fit(train).labels) == MAX_LABELS


def test_fields_round_trip_through_the_study_folder(tmp_path):
    save_tool_fields(["a", "b"], [TEMPO, BROKEN, TEMPO, TEMPO], ["tempo", "chords"], tmp_path)
    fields = load_tool_fields(tmp_path)
    assert fields["a"]["tempo.bpm"] == 133.0 and fields["a"]["chords.ok"] == 0.0
    with pytest.raises(ValueError, match="3 tool results for 2 items x 2 tools"):
        save_tool_fields(["a", "b"], [TEMPO] * 3, ["tempo", "chords"], tmp_path)
