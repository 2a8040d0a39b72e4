"""Instrument-like sound sources for the perception suite.

Tones are harmonic series with per-timbre spectra and envelopes (not bare sines);
hits are short percussive sounds; noise beds set the signal-to-noise ratio. All
functions take a ``numpy.random.Generator`` so every clip is reproducible by seed.
"""

from __future__ import annotations

import numpy as np

from audiorouter.contracts import SAMPLE_RATE

SR = SAMPLE_RATE
NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

# Relative amplitude of harmonic k (1-based) and how fast each harmonic decays.
TIMBRES = {
    "piano": dict(tilt=1.3, odd_only=False, decay=2.0, attack=0.005, sustain=0.0, vibrato=0.0),
    "organ": dict(tilt=0.8, odd_only=False, decay=0.0, attack=0.02, sustain=1.0, vibrato=0.0),
    "clarinet": dict(tilt=1.0, odd_only=True, decay=0.0, attack=0.04, sustain=0.9, vibrato=0.002),
    "strings": dict(tilt=1.0, odd_only=False, decay=0.0, attack=0.08, sustain=0.9, vibrato=0.004),
    "pluck": dict(tilt=1.6, odd_only=False, decay=4.0, attack=0.002, sustain=0.0, vibrato=0.0),
    "flute": dict(tilt=2.5, odd_only=False, decay=0.0, attack=0.06, sustain=0.9, vibrato=0.003),
}


def midi_to_hz(midi: float) -> float:
    return float(440.0 * 2.0 ** ((midi - 69) / 12))


def note_name(midi: int) -> str:
    """MIDI 69 -> 'A4' (scientific pitch notation, sharps)."""
    return f"{NOTE_NAMES[midi % 12]}{midi // 12 - 1}"


def seconds(n: float) -> int:
    return int(round(n * SR))


def envelope(n: int, attack: float, decay: float, sustain: float, release: float = 0.03) -> np.ndarray:
    """Attack, then exponential decay towards ``sustain``, then a short release."""
    t = np.arange(n) / SR
    env = sustain + (1.0 - sustain) * np.exp(-decay * t) if decay > 0 else np.full(n, max(sustain, 1e-3))
    a = max(1, min(n, seconds(attack)))
    env[:a] *= np.linspace(0.0, 1.0, a)
    r = max(1, min(n, seconds(release)))
    env[-r:] *= np.linspace(1.0, 0.0, r)
    return env


def harmonic_tone(
    f0: float | np.ndarray, duration: float, timbre: str, rng: np.random.Generator, brightness: float = 0.0
) -> np.ndarray:
    """A pitched tone. ``f0`` may be a per-sample array (glides). ``brightness`` shifts the
    spectral tilt (positive = brighter)."""
    spec = TIMBRES[timbre]
    n = seconds(duration)
    f0_track = np.broadcast_to(np.asarray(f0, dtype=np.float64), (n,)).copy()
    if spec["vibrato"]:
        f0_track *= 1.0 + spec["vibrato"] * np.sin(2 * np.pi * rng.uniform(4.5, 6.0) * np.arange(n) / SR)
    phase = 2 * np.pi * np.cumsum(f0_track) / SR
    t = np.arange(n) / SR
    out = np.zeros(n)
    tilt = max(0.2, spec["tilt"] - brightness)
    for k in range(1, 40):
        if spec["odd_only"] and k % 2 == 0:
            continue
        if np.max(f0_track) * k > 0.45 * SR:
            break
        amp = k ** (-tilt)
        # Higher harmonics die away faster on struck/plucked timbres.
        fade = np.exp(-spec["decay"] * 0.15 * (k - 1) * t) if spec["decay"] else 1.0
        out += amp * fade * np.sin(k * phase + rng.uniform(0, 2 * np.pi))
    out *= envelope(n, spec["attack"], spec["decay"], spec["sustain"])
    return normalise_peak(out)


def percussive_hit(kind: str, rng: np.random.Generator) -> np.ndarray:
    """A short hit: 'knock', 'clap', 'click', 'kick', 'woodblock' or 'beep'."""
    if kind == "beep":
        return harmonic_tone(rng.uniform(700, 1100), 0.12, "organ", rng)
    length = {"knock": 0.12, "clap": 0.15, "click": 0.03, "kick": 0.25, "woodblock": 0.1}[kind]
    n = seconds(length)
    t = np.arange(n) / SR
    if kind == "clap":
        burst = rng.standard_normal(n) * np.exp(-t * 35)
        hit = np.convolve(burst, np.ones(3) / 3, mode="same")
    elif kind == "click":
        hit = rng.standard_normal(n) * np.exp(-t * 250)
    elif kind == "kick":
        freq = 50 + 90 * np.exp(-t * 30)
        hit = np.sin(2 * np.pi * np.cumsum(freq) / SR) * np.exp(-t * 14)
    else:  # knock, woodblock: damped resonances
        base = rng.uniform(350, 600) if kind == "knock" else rng.uniform(900, 1400)
        hit = sum(
            np.sin(2 * np.pi * base * ratio * t) * np.exp(-t * (40 + 25 * i))
            for i, ratio in enumerate((1.0, 2.3, 3.9))
        )
        hit = hit + 0.3 * rng.standard_normal(n) * np.exp(-t * 300)
    attack = min(n, seconds(0.002))
    hit[:attack] *= np.linspace(0, 1, attack)
    return normalise_peak(hit)


def noise(n: int, rng: np.random.Generator, colour: str = "pink") -> np.ndarray:
    """White or pink (1/f power) noise of unit RMS."""
    white = rng.standard_normal(n)
    if colour == "pink":
        spectrum = np.fft.rfft(white)
        freqs = np.arange(spectrum.size, dtype=np.float64)
        freqs[0] = 1.0
        white = np.fft.irfft(spectrum / np.sqrt(freqs), n)
    return white / (np.sqrt(np.mean(white**2)) + 1e-12)


def place(track: np.ndarray, sound: np.ndarray, start_s: float, gain: float = 1.0) -> None:
    """Add ``sound`` into ``track`` at ``start_s`` (cut at the end of the track)."""
    start = seconds(start_s)
    end = min(track.size, start + sound.size)
    if end > start:
        track[start:end] += gain * sound[: end - start]


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x)) + 1e-20))


def add_noise(signal: np.ndarray, snr_db: float | None, rng: np.random.Generator) -> np.ndarray:
    """Mix a pink-noise bed at ``snr_db`` relative to the RMS of the sounding part."""
    if snr_db is None:
        return signal
    active = signal[np.abs(signal) > 1e-4]
    level = rms(active) if active.size else rms(signal)
    return signal + noise(signal.size, rng) * level * 10 ** (-snr_db / 20)


def normalise_peak(x: np.ndarray, peak: float = 0.9) -> np.ndarray:
    top = float(np.max(np.abs(x))) if x.size else 0.0
    return (x * (peak / top) if top > 0 else x).astype(np.float32)


def finish(track: np.ndarray, snr_db: float | None, rng: np.random.Generator, peak: float = 0.8) -> np.ndarray:
    """Add the noise bed and scale the whole clip to a random but safe peak level."""
    mixed = add_noise(track, snr_db, rng)
    return normalise_peak(mixed, peak * rng.uniform(0.6, 1.0))
