"""Encoding, decoding and resampling of clips: everything stored is 16 kHz mono FLAC."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from audiorouter.contracts import SAMPLE_RATE
from audiorouter.validation import (  # AudioError is imported from here too
    AudioError,
    check_sample_rate,
    file_problem,
)


def encode_flac(waveform: np.ndarray, sample_rate: int = SAMPLE_RATE) -> bytes:
    """16-bit FLAC bytes of a mono float waveform in [-1, 1] (clipped if outside)."""
    buffer = io.BytesIO()
    sf.write(buffer, np.clip(waveform, -1.0, 1.0), sample_rate, format="FLAC", subtype="PCM_16")
    return buffer.getvalue()


def decode_audio(source: bytes | str | Path) -> tuple[np.ndarray, int]:
    """Decode encoded bytes or a file into (float32 mono waveform, sample rate).

    Raises AudioError for missing, unreadable or empty audio, and for a path that is not
    a regular file (the message says what it is instead). It decodes the whole file and
    trusts its header's length: use it for the project's own stored clips; audio from
    outside (uploads, imports, ``tools analyse``, the batch pipeline's items) goes through
    ``read_clip``, whose memory the window bounds.
    """
    handle = _handle(source)
    try:
        data, sample_rate = sf.read(handle, dtype="float32", always_2d=True)
    except Exception as exc:  # soundfile raises several types for corrupt input
        raise AudioError(f"unreadable audio ({type(exc).__name__}: {exc})") from exc
    if data.shape[0] == 0:
        raise AudioError("audio has no samples")
    return data.mean(axis=1).astype(np.float32), int(sample_rate)


BLOCK_VALUES = 1 << 20  # float32 values decoded at a time (4 MiB), whatever the channel count
_UNKNOWN_FRAMES = 1 << 62  # libsndfile's answer (SF_COUNT_MAX) when a stream does not say its length


@dataclass(frozen=True)
class Clip:
    """The analysed window of an audio file: 16 kHz mono, at most ``max_seconds`` long."""

    waveform: np.ndarray  # float32, 16 kHz, mono, finite, non-empty
    source_rate: int  # the file's own rate
    duration_s: float | None  # of the whole file: counted when decoded to its end, else
    # its header's length; None when the header does not say and the file is longer
    truncated: bool  # the file holds more than the window


class _ForwardReader(sf.SoundFile):
    """A SoundFile read front to back only. pysoundfile seeks after every read to keep
    its own count of the position; libsndfile keeps it anyway, and that seek fails on a
    stream that does not say its length (a FLAC whose header leaves the sample count 0)."""

    def seekable(self) -> bool:
        return False


def read_clip(source: bytes | str | Path, max_seconds: float, longer: str = "truncate") -> Clip:
    """Decode at most the first ``max_seconds`` of encoded bytes or a file, in bounded
    blocks, into a 16 kHz mono clip.

    Memory is bounded by the window, never by what the file would decode to (a few
    hundred KB of FLAC can hold hours of silence): the output is ``max_seconds`` at
    16 kHz (64 KB per second) plus one block of ``BLOCK_VALUES`` float32 values and the
    resampler's state. Each block is averaged to mono and resampled as it comes (soxr's
    stream gives the same samples as resampling the whole window at once). The header's
    rate is checked before anything is decoded; its length is never trusted: decoding
    stops at the window or at the end of the data, so a header that claims two hours
    over one second of data gives that second, ``duration_s`` 1.0, with either value of
    ``longer``. AudioError for unreadable, empty or non-finite audio and an unsupported
    rate, and, with ``longer="error"``, for a file that holds more than the window (its
    message gives the header's length when the header says more than was decoded). An
    error about a file names it.
    """
    if not max_seconds > 0:
        raise ValueError(f"max_seconds must be > 0, got {max_seconds}")
    try:
        return _read_window(_handle(source), max_seconds, longer)
    except AudioError as exc:
        if isinstance(source, bytes) or str(source) in str(exc):
            raise
        raise AudioError(f"{source}: {exc}") from exc


def _read_window(handle: io.BytesIO | Path, max_seconds: float, longer: str) -> Clip:
    import soxr  # imported here: generation workers never resample and start faster

    try:
        with _ForwardReader(handle) as audio:
            rate = check_sample_rate(int(audio.samplerate))
            header_frames = int(audio.frames) if 0 < audio.frames < _UNKNOWN_FRAMES else None
            window = max(1, int(max_seconds * rate))
            block = max(1, BLOCK_VALUES // max(1, audio.channels))
            stream = None if rate == SAMPLE_RATE else soxr.ResampleStream(rate, SAMPLE_RATE, 1, "float32", "HQ")
            pieces, decoded, bad = [], 0, 0
            while decoded < window:
                data = audio.read(min(block, window - decoded), dtype="float32", always_2d=True)
                if data.shape[0] == 0:
                    break
                mono = data.mean(axis=1).astype(np.float32)
                bad += int(mono.size - np.count_nonzero(np.isfinite(mono)))
                decoded += mono.size
                pieces.append(mono if stream is None else stream.resample_chunk(mono, last=False))
            more = decoded == window and audio.read(1, dtype="float32").shape[0] > 0
    except AudioError:
        raise
    except Exception as exc:  # soundfile raises several types for corrupt input
        raise AudioError(f"unreadable audio ({type(exc).__name__}: {exc})") from exc
    if decoded == 0:
        raise AudioError("audio has no samples")
    if bad:
        raise AudioError(f"audio has {bad} NaN/inf samples")
    stated = header_frames / rate if header_frames and header_frames > decoded else None  # when more is left
    if more and longer == "error":
        raise _too_long(stated, max_seconds)
    if stream is not None:
        pieces.append(stream.resample_chunk(np.zeros(0, np.float32), last=True))
    waveform = np.concatenate(pieces) if len(pieces) > 1 else pieces[0]
    return Clip(waveform, rate, stated if more else decoded / rate, more)


def _too_long(duration_s: float | None, max_seconds: float) -> AudioError:
    said = f"duration {duration_s:.1f} s" if duration_s is not None else "the audio (of unstated length)"
    return AudioError(f"{said} exceeds the limit of {max_seconds:g} s")


def _handle(source: bytes | str | Path) -> io.BytesIO | Path:
    """What soundfile opens: a checked regular file, or the bytes (never empty)."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        check_audio_file(path)
        return path
    if not source:
        raise AudioError("audio bytes are empty")
    return io.BytesIO(source)


def check_audio_file(path: Path) -> None:
    """AudioError unless ``path`` is (a symlink to) a non-empty regular file."""
    if problem := file_problem(path, "audio"):
        raise AudioError(problem)


def item_audio(audio: bytes | None, audio_path: str | None, data_dir: str | Path | None,
               item_id: str = "item") -> bytes | Path:
    """Where an item's clip is: its bytes, else its path (relative paths are under
    ``data_dir``, the dataset folder)."""
    if audio:
        return audio
    if not audio_path:
        raise ValueError(f"{item_id} has neither audio bytes nor an audio path")
    path = Path(audio_path)
    return path if path.is_absolute() or data_dir is None else Path(data_dir) / path


def decode_item_audio(audio: bytes | None, audio_path: str | None, data_dir: str | Path | None,
                      item_id: str = "item") -> tuple[np.ndarray, int]:
    """An item's whole clip (``decode_audio``): for the project's own stored clips."""
    return decode_audio(item_audio(audio, audio_path, data_dir, item_id))


def read_item_clip(audio: bytes | None, audio_path: str | None, data_dir: str | Path | None, max_seconds: float,
                   item_id: str = "item", longer: str = "truncate") -> Clip:
    """An item's analysed window (``read_clip``): what the batch pipeline reads, as the
    server reads an upload."""
    return read_clip(item_audio(audio, audio_path, data_dir, item_id), max_seconds, longer)


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
