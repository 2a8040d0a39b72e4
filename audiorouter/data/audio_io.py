"""Encoding, decoding and resampling of clips: everything stored is 16 kHz mono FLAC."""

from __future__ import annotations

import hashlib
import io
import os
import stat
from pathlib import Path

import numpy as np
import soundfile as sf

from audiorouter.contracts import SAMPLE_RATE
from audiorouter.validation import AudioError  # defined with the other checks; imported from here too

_NOT_REGULAR = (  # what a path is when it is not a regular file, for error messages
    (stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"),
)


def encode_flac(waveform: np.ndarray, sample_rate: int = SAMPLE_RATE) -> bytes:
    """16-bit FLAC bytes of a mono float waveform in [-1, 1] (clipped if outside)."""
    buffer = io.BytesIO()
    sf.write(buffer, np.clip(waveform, -1.0, 1.0), sample_rate, format="FLAC", subtype="PCM_16")
    return buffer.getvalue()


def decode_audio(source: bytes | str | Path) -> tuple[np.ndarray, int]:
    """Decode encoded bytes or a file into (float32 mono waveform, sample rate).

    Raises AudioError for missing, unreadable or empty audio, and for a path that is not
    a regular file (the message says what it is instead).
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        check_audio_file(path)
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


def check_audio_file(path: Path) -> None:
    """AudioError unless ``path`` is (a symlink to) a non-empty regular file."""
    try:
        own = os.lstat(path)
    except FileNotFoundError:
        raise AudioError(f"audio file not found: {path}") from None
    except OSError as exc:
        raise AudioError(f"audio path cannot be read: {path} ({exc.strerror})") from exc
    try:
        target = os.stat(path)
    except FileNotFoundError:
        raise AudioError(f"audio path is a broken symlink: {path} -> {os.readlink(path)}") from None
    except OSError as exc:  # a symlink loop, a permission problem
        raise AudioError(f"audio path cannot be read: {path} ({exc.strerror})") from exc
    if stat.S_ISDIR(target.st_mode):
        raise AudioError(f"audio path is a directory: {path}")
    if not stat.S_ISREG(target.st_mode):
        kind = next((name for test, name in _NOT_REGULAR if test(target.st_mode)), "something else")
        via = " (via a symlink)" if stat.S_ISLNK(own.st_mode) else ""
        raise AudioError(f"audio path is not a regular file ({kind}){via}: {path}")
    if target.st_size == 0:
        raise AudioError(f"audio file is empty (0 bytes): {path}")


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
    """Resample a mono (or (channels, n)) waveform to 16 kHz mono float32: the one
    resampler of the project (tool inputs, importers, serve, features all come here).

    soxr's polyphase, band-limited "HQ" resampler (linear phase, no delay): its memory
    grows with the clip whatever the two rates are. (A plain windowed-sinc kernel grows
    with the rates' gcd badness: 8001 Hz took about 2 GB and 44101 Hz 11 GB for any clip.)
    """
    wave = np.asarray(waveform, dtype=np.float32)
    if wave.ndim == 2:
        wave = wave.mean(axis=0)
    if sample_rate == SAMPLE_RATE:
        return wave
    import soxr  # imported here: generation workers never resample and start faster

    return soxr.resample(np.ascontiguousarray(wave), int(sample_rate), SAMPLE_RATE, quality="HQ")


def audio_hash(waveform: np.ndarray) -> str:
    """Content address of a clip (of its float32 samples), used by caches."""
    return hashlib.sha256(np.ascontiguousarray(waveform, dtype=np.float32).tobytes()).hexdigest()
