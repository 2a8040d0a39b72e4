"""Encoded audio for tests: any format, noise, hours of FLAC silence, a FLAC that does
not say its length or says a false one."""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf

SR = 16_000


def encoded(samples: np.ndarray, rate: int, fmt: str, subtype: str) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


def noise(rate: int, seconds: float, channels: int, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((int(rate * seconds), channels)) * 0.1).astype(np.float32)


def silence_flac(seconds: int, rate: int = SR) -> bytes:
    """A FLAC of silence: a few hundred KB per two hours (written a minute at a time)."""
    buffer = io.BytesIO()
    with sf.SoundFile(buffer, "w", rate, 1, format="FLAC", subtype="PCM_16") as out:
        minute = np.zeros(rate * 60, np.int16)
        for _ in range(seconds // 60):
            out.write(minute)
    return buffer.getvalue()


def stating_length(flac: bytes, frames: int) -> bytes:
    """The same FLAC with STREAMINFO's total-samples field set to ``frames`` (a header
    that lies about the length when it differs from the data): 36 bits starting in the
    low nibble of the block's byte 13."""
    data = bytearray(flac)
    info = 8  # "fLaC" and the metadata block header
    data[info + 13] = (data[info + 13] & 0xF0) | (frames >> 32 & 0x0F)
    data[info + 14: info + 18] = (frames & 0xFFFFFFFF).to_bytes(4, "big")
    return bytes(data)


def unknown_length(flac: bytes) -> bytes:
    """The same FLAC with a total-samples field of 0 ("unknown", as streaming encoders
    write it)."""
    return stating_length(flac, 0)
