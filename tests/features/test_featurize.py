"""The router's features: the packaged MiniLM question encoder, log-mel statistics, the cache."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from audiorouter.data.synth import generate_family_items
from audiorouter.features import QUESTION_DIM, FeatureSpec, featurize
from audiorouter.features import compute as features_mod
from audiorouter.features.audio import waveform_features

SPEC = FeatureSpec(n_mels=16)


@pytest.fixture(scope="module")
def items():
    return generate_family_items("note_name", 3, seed=3) + generate_family_items("event_count", 3, seed=3)


@pytest.fixture(scope="module")
def cached(items, tmp_path_factory):
    cache = tmp_path_factory.mktemp("features")
    return cache, featurize(items, SPEC, cache_dir=cache)


def test_real_minilm_embeddings_and_log_mel_statistics(items, cached):
    _, feats = cached
    assert feats.item_ids == [item.id for item in items]
    assert feats.question.shape == (6, QUESTION_DIM)
    assert feats.audio.shape == (6, SPEC.audio_dim) == (6, 3 * 16 + 1)
    assert feats.matrix().shape == (6, SPEC.dim)
    assert feats.matrix().dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(feats.question, axis=1), 1.0, atol=1e-4)
    sim = feats.question @ feats.question.T
    same = (sim[:3, :3].sum() - 3) / 6  # mean off-diagonal similarity within a family
    assert same > sim[:3, 3:].mean() + 0.1  # questions of one family embed closer together
    assert np.isfinite(feats.audio).all()


def test_cached_features_are_read_not_recomputed(items, cached, monkeypatch):
    cache, first = cached

    def refuse(texts):
        raise AssertionError("the cache should have served these")

    monkeypatch.setattr(features_mod, "encode_texts", refuse)
    again = featurize(items, SPEC, cache_dir=cache)
    np.testing.assert_array_equal(again.matrix(), first.matrix())


def test_an_edited_item_is_recomputed(items, cached, monkeypatch):
    cache, _ = cached
    calls = []
    real = features_mod.encode_texts
    monkeypatch.setattr(features_mod, "encode_texts", lambda texts: calls.append(texts) or real(texts))
    edited = dataclasses.replace(items[0], question=items[0].question + " Answer briefly.")
    featurize([edited, items[1]], SPEC, cache_dir=cache)
    assert calls == [[edited.question]]


def test_select_reorders_rows(cached):
    _, feats = cached
    picked = feats.select([feats.item_ids[2], feats.item_ids[0]])
    np.testing.assert_array_equal(picked.matrix(), feats.matrix()[[2, 0]])


def test_waveform_features_are_deterministic_and_handle_tiny_clips():
    rng = np.random.default_rng(0)
    wave = rng.normal(scale=0.1, size=8000).astype(np.float32)
    np.testing.assert_array_equal(waveform_features(wave, SPEC), waveform_features(wave, SPEC))
    tiny = waveform_features(wave[:100], SPEC)
    assert tiny.shape == (SPEC.audio_dim,) and np.isfinite(tiny).all()


def test_the_spec_is_part_of_the_cache_key():
    assert FeatureSpec(n_mels=16).key != FeatureSpec(n_mels=32).key


def test_a_bad_clip_raises_naming_its_item(items):
    from audiorouter.data.audio_io import AudioError

    bad = dataclasses.replace(items[1], id="bad-clip", audio=b"not audio at all" * 20)
    batch = [items[0], bad, items[2]]
    with pytest.raises(AudioError, match="bad-clip"):
        featurize(batch, SPEC)


def test_online_requests_get_the_same_vectors_as_their_items(items):
    from audiorouter.data.audio_io import decode_audio, to_mono_16k
    from audiorouter.features import request_features

    waveforms = [to_mono_16k(*decode_audio(item.audio)) for item in items[:3]]
    vectors = request_features(waveforms, [item.question for item in items[:3]], SPEC)
    np.testing.assert_allclose(vectors, featurize(items[:3], SPEC).matrix(), atol=1e-5)
