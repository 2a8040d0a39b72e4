"""What the serving tests share: a tiny random router over three tools, a WAV clip,
a free loopback port."""

from __future__ import annotations

import io
import socket
from pathlib import Path

import numpy as np
import soundfile as sf

from audiorouter.router.actions import ActionSpace
from audiorouter.router.features import FeatureSpec
from audiorouter.router.policy import RouterNet, RouterPolicy

TOOLS = ("loudness", "segments", "tempo")


def tiny_policy(directory: Path) -> Path:
    spec = FeatureSpec(n_mels=8)
    actions = ActionSpace(TOOLS, "subsets", 2)
    return RouterPolicy(RouterNet(spec.dim, actions.num_logits, (8,)), actions, spec, (8,)).save(directory)


def wav_bytes(seconds: float = 1.0, sample_rate: int = 22_050, freq: float = 440.0) -> bytes:
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    buf = io.BytesIO()
    sf.write(buf, (0.4 * np.sin(2 * np.pi * freq * t)).astype(np.float32), sample_rate, format="WAV")
    return buf.getvalue()


def float_wav(samples: np.ndarray, sample_rate: int = 16_000) -> bytes:
    """A 32-bit float WAV of exactly these samples (NaN and inf included)."""
    buf = io.BytesIO()
    sf.write(buf, np.asarray(samples, dtype=np.float32), sample_rate, format="WAV", subtype="FLOAT")
    return buf.getvalue()


def nan_wav(value: float = float("nan"), seconds: float = 0.3) -> bytes:
    """A float WAV of silence with ten samples set to ``value`` (NaN or inf)."""
    samples = np.zeros(int(seconds * 16_000), dtype=np.float32)
    samples[100:110] = value
    return float_wav(samples)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
