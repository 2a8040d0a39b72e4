"""``featurize``: the features a spec names, of a list of items, through the cache.

    features = featurize(items, FeatureSpec(n_mels=32), cache_dir="runs/features")   # the router's
    features = featurize(items, HEAD_SPEC, cache_dir="runs/features")               # the heads'

Cached items are read; the rest are computed in chunks: each clip's audio blocks
(``audio``), then one encoder call for the chunk's texts: its questions in item order,
or, when the spec embeds choices, its distinct questions and choices (sorted).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from audiorouter.contracts import AudioQAItem
from audiorouter.features.audio import audio_blocks, item_waveform, waveform_features
from audiorouter.features.cache import FeatureCache
from audiorouter.features.item_features import ItemFeatures
from audiorouter.features.spec import QUESTION_DIM, YAMNET_DIM, FeatureSpec
from audiorouter.features.text import encode_texts

log = logging.getLogger(__name__)


def featurize(
    items: Sequence[AudioQAItem],
    spec: FeatureSpec | None = None,
    cache_dir: str | Path | None = None,
    chunk: int | None = None,
) -> ItemFeatures:
    """Features of ``items`` (in order). ``chunk``: items computed per encoder call (64 for
    the router's spec, 256 when choices are embedded). An item whose clip cannot be decoded
    raises its ``AudioError`` (naming the item); callers that must go on leave such items out
    first (the batch route stage decodes every clip before it routes)."""
    spec = spec or FeatureSpec()
    chunk = chunk or (256 if spec.choices else 64)
    cache = FeatureCache(cache_dir, spec) if cache_dir else None
    records: dict[int, dict[str, np.ndarray]] = {}
    for i, item in enumerate(items):
        hit = cache.get(item) if cache else None
        if hit is not None:
            records[i] = hit
    missing = [i for i in range(len(items)) if i not in records]
    audio_s = text_s = 0.0
    for start in range(0, len(missing), chunk):
        began = time.perf_counter()
        audio = {i: audio_blocks(item_waveform(items[i]), spec) for i in missing[start : start + chunk]}
        audio_s += time.perf_counter() - began
        began = time.perf_counter()
        texts = text_blocks([items[i] for i in audio], spec)
        text_s += time.perf_counter() - began
        for (i, blocks), text in zip(audio.items(), texts, strict=True):
            records[i] = blocks | text
            if cache:
                cache.put(items[i], records[i])
    cost = {"computed": len(missing), "cached": len(items) - len(missing), "audio_s": audio_s, "text_s": text_s}
    if missing:
        log.info("features (%s): %d computed (audio %.1f ms, text %.1f ms per item), %d from the cache", spec.key,
                 len(missing), 1e3 * audio_s / len(missing), 1e3 * text_s / len(missing), cost["cached"])
    kept = sorted(records)
    return assemble([items[i] for i in kept], [records[i] for i in kept], spec, cost)


def text_blocks(items: Sequence[AudioQAItem], spec: FeatureSpec) -> list[dict[str, np.ndarray]]:
    """Per item ``question`` (and ``choices``, stacked, when the spec embeds them), from one
    encoder call over the items' texts."""
    if not items:
        return []
    if not spec.choices:
        return [{"question": q} for q in encode_texts([item.question for item in items])]
    texts = sorted({t for item in items for t in (item.question, *item.choices)})
    vectors = dict(zip(texts, encode_texts(texts), strict=True))
    return [{"question": vectors[item.question], "choices": np.stack([vectors[c] for c in item.choices])}
            for item in items]


def assemble(items: Sequence[AudioQAItem], records: Sequence[dict[str, np.ndarray]], spec: FeatureSpec,
             cost: dict[str, float]) -> ItemFeatures:
    def stack(name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
        return np.stack([r[name] for r in records]).astype(dtype) if records else np.zeros((0, *shape), dtype)

    return ItemFeatures(
        [item.id for item in items], stack("question", (QUESTION_DIM,), np.float32),
        stack("stats", (spec.audio_dim,), np.float32),
        embedding=stack("embedding", (2 * YAMNET_DIM,), np.float32) if spec.embedding else None,
        mel=stack("mel", (spec.matrix_mels, spec.matrix_frames), np.float16) if spec.matrix_mels else None,
        questions=[item.question for item in items] if spec.choices else [],
        choices=[list(item.choices) for item in items] if spec.choices else [],
        choice_vectors=[r["choices"] for r in records] if spec.choices else [], spec=spec, cost=cost)


def request_features(waveforms: Sequence[np.ndarray], questions: Sequence[str], spec: FeatureSpec) -> np.ndarray:
    """(N, spec.dim): the vectors ``featurize`` gives items, for bare 16 kHz mono waveforms
    and their questions (online requests); the questions are encoded in one batch."""
    encoded = encode_texts(list(questions))
    return np.stack([np.concatenate([q, waveform_features(w, spec)]).astype(np.float32)
                     for q, w in zip(encoded, waveforms, strict=True)])
