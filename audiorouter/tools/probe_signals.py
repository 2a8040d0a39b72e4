"""Edge-case and typical signals every tool must survive (16 kHz mono float32).

Two users: the numba warm-up (``warmup``), which runs every tool on them so that each
compiled kernel a tool can reach is compiled once, by one process, before any pool of
workers starts; and the tests, which run every tool on each signal in a child process
so that a crash names the tool and the signal instead of killing pytest.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

SR = 16_000


def _seconds(s: float) -> np.ndarray:
    return np.arange(int(s * SR)) / SR


def digital_silence() -> np.ndarray:
    return np.zeros(SR, np.float32)


def quiet_noise() -> np.ndarray:
    return (np.random.default_rng(0).standard_normal(SR) * 0.01).astype(np.float32)


def dc_offset() -> np.ndarray:
    return np.full(SR, 0.3, np.float32)


def single_click() -> np.ndarray:
    wave = np.zeros(SR, np.float32)
    wave[SR // 2] = 0.9
    return wave


def short_50ms() -> np.ndarray:
    return (0.3 * np.sin(2 * np.pi * 440.0 * _seconds(0.05))).astype(np.float32)


def one_sample() -> np.ndarray:
    return np.array([0.25], dtype=np.float32)


def clip_100_samples() -> np.ndarray:
    """Shorter than one 10 ms analysis hop (160 samples at 16 kHz)."""
    return (0.3 * np.sin(2 * np.pi * 440.0 * np.arange(100) / SR)).astype(np.float32)


def long_60s() -> np.ndarray:
    t = _seconds(60.0)
    tone = 0.2 * np.sin(2 * np.pi * 330.0 * t) * (np.sin(2 * np.pi * 0.5 * t) > 0)
    return (tone + np.random.default_rng(1).standard_normal(t.size) * 0.005).astype(np.float32)


def full_scale_clipping() -> np.ndarray:
    return np.clip(3.0 * np.sin(2 * np.pi * 220.0 * _seconds(1.0)), -1.0, 1.0).astype(np.float32)


def pure_tone() -> np.ndarray:
    return (0.3 * np.sin(2 * np.pi * 440.0 * _seconds(2.0))).astype(np.float32)


def drum_pattern() -> np.ndarray:
    """Noise bursts at 120 BPM over a quiet bed: onsets, beats and tempo paths."""
    t = _seconds(4.0)
    wave = np.random.default_rng(2).standard_normal(t.size) * 0.002
    burst = np.random.default_rng(3).standard_normal(800) * np.exp(-np.arange(800) / 120.0)
    for start in np.arange(0.1, 3.9, 0.5):
        i = int(start * SR)
        wave[i : i + burst.size] += 0.5 * burst
    return wave.astype(np.float32)


def note_phrase() -> np.ndarray:
    """Three harmonic notes (C4 E4 G4) then a C major triad: pitch, notes and chords paths."""
    parts = []
    for hz in (261.63, 329.63, 392.0):
        t = _seconds(0.5)
        parts.append(sum(0.2 / k * np.sin(2 * np.pi * k * hz * t) for k in (1, 2, 3)) * np.hanning(t.size))
    t = _seconds(1.5)
    parts.append(sum(0.15 * np.sin(2 * np.pi * hz * t) for hz in (261.63, 329.63, 392.0)))
    return np.concatenate(parts).astype(np.float32)


EDGE_CASES: dict[str, Callable[[], np.ndarray]] = {
    "digital_silence": digital_silence,
    "quiet_noise_1s": quiet_noise,
    "dc_offset": dc_offset,
    "single_click": single_click,
    "clip_50ms": short_50ms,
    "one_sample": one_sample,
    "clip_100_samples": clip_100_samples,
    "clip_60s": long_60s,
    "full_scale_clipping": full_scale_clipping,
    "pure_tone": pure_tone,
}

# What the warm-up runs: every path to a compiled kernel, without the slow 60 s clip.
WARMUP: dict[str, Callable[[], np.ndarray]] = {
    **{name: make for name, make in EDGE_CASES.items() if name != "clip_60s"},
    "drum_pattern": drum_pattern,
    "note_phrase": note_phrase,
}
