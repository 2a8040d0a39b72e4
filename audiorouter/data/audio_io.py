"""Encoding, decoding and resampling of clips: everything stored is 16 kHz mono FLAC."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
import soundfile as sf

from audiorouter.contracts import SAMPLE_RATE


class AudioError(ValueError):
    """A clip that cannot be used; the message says why."""


def encode_flac(waveform: np.ndarray, sample_rate: int = SAMPLE_RATE) -> bytes:
    """16-bit FLAC bytes of a mono float waveform in [-1, 1] (clipped if outside)."""
    buffer = io.BytesIO()
    sf.write(buffer, np.clip(waveform, -1.0, 1.0), sample_rate, format="FLAC", subtype="PCM_16")
    return buffer.getvalue()


def decode_audio(source: bytes | str | Path) -> tuple[np.ndarray, int]:
    """Decode encoded bytes or a file into (float32 mono waveform, sample rate).

    Raises AudioError for missing, unreadable or empty audio.
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise AudioError(f"audio file not found: {path}")
        if path.stat().st_size == 0:
            raise AudioError(f"audio file is empty (0 bytes): {path}")
        handle: io.BytesIO | Path = path
    else:
        if not source:
            raise AudioError("audio bytes are empty")
        handle = io.BytesIO(source)
    try:
        data, sample_rate = sf.read(handle, dtype="float32", always_2d=True)
    except Exception as exc:  # soundfile raises several types for corrupt input
        raise AudioError(f"unreadable audio ({type(exc).__name__}: {exc})") from exc
    if data.shape[0] == 0:
        raise AudioError("audio has no samples")
    return data.mean(axis=1).astype(np.float32), int(sample_rate)


def decode_item_audio(audio: bytes | None, audio_path: str | None, data_dir: str | Path | None,
                      item_id: str = "item") -> tuple[np.ndarray, int]:
    """An item's clip from its bytes, else from its path (relative paths are under
    ``data_dir``, the dataset folder)."""
    if audio:
        return decode_audio(audio)
    if not audio_path:
        raise ValueError(f"{item_id} has neither audio bytes nor an audio path")
    path = Path(audio_path)
    return decode_audio(path if path.is_absolute() or data_dir is None else Path(data_dir) / path)


def to_mono_16k(waveform: np.ndarray, sample_rate: int) -> np.ndarray:
    """Resample a mono (or (channels, n)) waveform to 16 kHz mono float32."""
    wave = np.asarray(waveform, dtype=np.float32)
    if wave.ndim == 2:
        wave = wave.mean(axis=0)
    if sample_rate == SAMPLE_RATE:
        return wave
    import torch  # imported here: generation workers never resample and start faster
    import torchaudio.functional as AF

    resampled = AF.resample(torch.from_numpy(wave), orig_freq=sample_rate, new_freq=SAMPLE_RATE)
    return resampled.numpy().astype(np.float32)


def check_waveform(waveform: np.ndarray, sample_rate: int, max_duration_s: float) -> None:
    """Raise AudioError when a decoded clip cannot be used."""
    if waveform.size == 0:
        raise AudioError("audio has no samples")
    if not np.all(np.isfinite(waveform)):
        bad = int(np.size(waveform) - np.count_nonzero(np.isfinite(waveform)))
        raise AudioError(f"audio has {bad} NaN/inf samples")
    duration = waveform.size / sample_rate
    if duration > max_duration_s:
        raise AudioError(f"duration {duration:.1f} s exceeds the limit of {max_duration_s:g} s")


def audio_hash(waveform: np.ndarray) -> str:
    """Content address of a clip (of its float32 samples), used by caches."""
    return hashlib.sha256(np.ascontiguousarray(waveform, dtype=np.float32).tobytes()).hexdigest()
