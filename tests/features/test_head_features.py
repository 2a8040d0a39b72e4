"""The heads' features (``HEAD_SPEC``): choice values, the cache per item and choices,
the study's file of them; the test that loads MiniLM and YAMNet is marked slow."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pytest
from feature_helpers import choice_item, text_vector

from audiorouter.contracts import AudioQAItem
from audiorouter.features import HEAD_SPEC, ItemFeatures, compute, featurize
from audiorouter.features.spec import YAMNET_DIM
from audiorouter.features.values import ChoiceValue, parse_choice_value

SPEC = HEAD_SPEC


@dataclass
class Tagged:
    """Stands for a decoded waveform in the cache test: says whose it is."""

    item: AudioQAItem


@pytest.mark.parametrize("text, expected", [
    ("65 BPM", ChoiceValue(65.0, "bpm")), ("2.1 s", ChoiceValue(2.1, "s")),
    ("-14 LUFS", ChoiceValue(-14.0, "lufs")), ("−3 dB", ChoiceValue(-3.0, "db")),
    ("250 ms", ChoiceValue(0.25, "s")), ("1.5 kHz", ChoiceValue(1500.0, "hz")),
    ("3", ChoiceValue(3.0, "")), ("3 knocks", ChoiceValue(3.0, "knocks")),
    ("G#4", ChoiceValue(68.0, "note")), ("A4", ChoiceValue(69.0, "note")), ("Bb3", ChoiceValue(58.0, "note")),
    ("C-1", ChoiceValue(0.0, "note")), ("perfect fifth (7 semitones)", ChoiceValue(7.0, "semitone")),
    ("minor second (1 semitone)", ChoiceValue(1.0, "semitone")),
    ("the first sound", None), ("major", None), ("three", None),
])
def test_parse_choice_value(text, expected):
    parsed = parse_choice_value(text)
    if expected is None:
        assert parsed is None
    else:
        assert parsed.unit == expected.unit and parsed.value == pytest.approx(expected.value)




def test_item_features_are_cached_per_item_and_choices(tmp_path, monkeypatch):
    calls = []

    def fake_audio(item, spec):
        calls.append(item.id)
        return {"embedding": np.full(2 * YAMNET_DIM, len(item.id), np.float32),
                "stats": np.ones(spec.audio_dim, np.float32),
                "mel": np.zeros((spec.matrix_mels, spec.matrix_frames), np.float16)}

    monkeypatch.setattr(compute, "audio_blocks", lambda waveform, spec: fake_audio(waveform.item, spec))
    monkeypatch.setattr(compute, "item_waveform", lambda item: Tagged(item))
    monkeypatch.setattr(compute, "encode_texts", lambda ts: np.stack([text_vector(t) for t in ts]))
    items = [choice_item("a", ["1 s", "2 s"], 0), choice_item("bb", ["G4", "A4", "B4"], 2)]
    first = featurize(items, SPEC, cache_dir=tmp_path)
    second = featurize(items, SPEC, cache_dir=tmp_path)
    assert calls == ["a", "bb"] and second.cost["cached"] == 2 and second.cost["computed"] == 0
    np.testing.assert_array_equal(first.embedding, second.embedding)
    np.testing.assert_array_equal(second.text_vectors["A4"], text_vector("A4"))
    assert second.values[1][2] == ChoiceValue(71.0, "note")
    assert second.audio_vectors(second.rows(["bb"])).shape == (1, SPEC.head_audio_dim)
    featurize([replace(items[0], choices=["1 s", "3 s"])], SPEC, cache_dir=tmp_path)
    assert calls == ["a", "bb", "a"]  # other choices: a new entry
    with pytest.raises(KeyError, match="no features"):
        second.rows(["missing"])


@pytest.mark.slow
def test_real_item_features_are_computed_once(tmp_path):
    from audiorouter.data.synth import generate_family_items

    items = generate_family_items("tempo", 2, seed=3) + generate_family_items("note_name", 1, seed=3)
    first = featurize(items, SPEC, cache_dir=tmp_path)
    second = featurize(items, SPEC, cache_dir=tmp_path)
    assert first.cost["computed"] == 3 and second.cost["cached"] == 3
    np.testing.assert_array_equal(first.embedding, second.embedding)
    np.testing.assert_array_equal(first.mel, second.mel)
    assert first.embedding.shape == (3, 2 * YAMNET_DIM) and first.embedding[:, :YAMNET_DIM].max() > 0
    assert first.mel.shape == (3, SPEC.matrix_mels, SPEC.matrix_frames)
    assert first.values[0][0].unit == "bpm" and first.values[2][0].unit == "note"
    assert np.linalg.norm(first.text_vectors[items[0].question]) == pytest.approx(1.0, abs=1e-4)


def test_the_study_file_round_trips_without_pickle(tmp_path, monkeypatch):
    monkeypatch.setattr(compute, "audio_blocks", lambda waveform, spec: {
        "embedding": np.full(2 * YAMNET_DIM, len(waveform.item.id), np.float32),
        "stats": np.ones(spec.audio_dim, np.float32),
        "mel": np.full((spec.matrix_mels, spec.matrix_frames), -3.5, np.float16)})
    monkeypatch.setattr(compute, "item_waveform", lambda item: Tagged(item))
    monkeypatch.setattr(compute, "encode_texts", lambda ts: np.stack([text_vector(t) for t in ts]))
    items = [choice_item("a", ["1 s", "2 s"], 0), choice_item("bb", ["G4", "A4", "B4"], 2), choice_item("c", ["3 s", "4 s"], 1)]
    features = ItemFeatures.concat([featurize(items[:2], SPEC), featurize(items[2:], SPEC)])
    features.save(tmp_path / "features.npz")
    with np.load(tmp_path / "features.npz") as stored:  # allow_pickle is off: plain arrays only
        assert all(stored[name].dtype != object for name in stored.files)
    loaded = ItemFeatures.load(tmp_path / "features.npz")
    assert loaded.item_ids == ["a", "bb", "c"] and loaded.spec == SPEC and loaded.choices == features.choices
    for name in ("question", "audio", "embedding", "mel"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(features, name))
    assert loaded.text_vectors.keys() == features.text_vectors.keys()
    np.testing.assert_array_equal(loaded.audio_vectors(loaded.rows(["c"])), features.audio_vectors(features.rows(["c"])))
    assert loaded.values[1][2] == ChoiceValue(71.0, "note") and loaded.cost["computed"] == 3
