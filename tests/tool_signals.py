"""Test signals for the tool tests: plain tones, syllable-like "speech", and
decoded items of the perception suite (cached per process)."""

from __future__ import annotations

from functools import cache

import numpy as np
import scipy.signal

from audiorouter.data.audio_io import decode_audio
from audiorouter.data.synth import generate_family_items

SR = 16_000
LEVELS = ("easy", "medium", "hard")
# Vowel formants (Hz): a, i, u, e, o, ae.
VOWELS = ((730, 1090, 2440), (270, 2290, 3010), (300, 870, 2240), (530, 1840, 2480), (570, 840, 2410),
          (660, 1720, 2410))


def tone(hz: float = 440.0, seconds: float = 2.0, amplitude: float = 0.3, sr: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def fake_speech(seconds: float, sr: int = SR, seed: int = 0) -> np.ndarray:
    """Syllables: a glottal pulse train through three vowel formants, with a falling
    pitch per syllable and a short noise 'consonant' between; silero-vad calls it speech."""
    rng = np.random.default_rng(seed)
    pieces, total = [], 0.0
    while total < seconds:
        length = rng.uniform(0.15, 0.3)
        n = int(length * sr)
        phase = np.cumsum(rng.uniform(100, 140) * np.linspace(1.1, 0.9, n) / sr)
        source = scipy.signal.lfilter([1], [1, -0.95], (np.diff(np.floor(phase), prepend=0) > 0).astype(float))
        voice = np.zeros(n)
        for formant, bandwidth in zip(VOWELS[rng.integers(len(VOWELS))], (80, 100, 150), strict=True):
            r, theta = np.exp(-np.pi * bandwidth / sr), 2 * np.pi * formant / sr
            voice += scipy.signal.lfilter([1 - r], [1, -2 * r * np.cos(theta), r * r], source)
        voice *= np.hanning(n) ** 0.5
        consonant = rng.standard_normal(int(0.05 * sr)) * 0.05 * np.hanning(int(0.05 * sr))
        pieces += [consonant, voice / (np.abs(voice).max() + 1e-9)]
        total += length + 0.05
    return (0.5 * np.concatenate(pieces)[: int(seconds * sr)]).astype(np.float32)


@cache
def family_clips(family: str, per_level: int, seed: int = 101) -> tuple[tuple[np.ndarray, int, dict, str], ...]:
    """(waveform, sample rate, meta, difficulty) for ``per_level`` items of each level."""
    out = []
    for level in LEVELS:
        for item in generate_family_items(family, per_level, seed, level):
            waveform, sr = decode_audio(item.audio)
            out.append((waveform, sr, item.meta, level))
    return tuple(out)
