"""Spectral shape / timbre: centroid, roll-off, flatness (librosa), a brightness word,
the centroid of each sounding part, and which part is brightest."""

from __future__ import annotations

import librosa
import numpy as np

from audiorouter.tools.base import Tool, register_tool
from audiorouter.tools.common import HOP, ordinal, sounding_segments, span_text

N_FFT = 1024
CURVE_STEP_S = 0.1
MAX_LISTED = 8
# Centroid bands (Hz) and the words summaries use for them.
BRIGHTNESS_WORDS = ((500.0, "dark"), (1500.0, "warm"), (3000.0, "bright"), (float("inf"), "very bright"))


def brightness_word(centroid_hz: float) -> str:
    return next(word for limit, word in BRIGHTNESS_WORDS if centroid_hz < limit)


def _frames_between(start: float, end: float, sample_rate: int, n_frames: int) -> slice:
    first = int(librosa.time_to_frames(start, sr=sample_rate, hop_length=HOP))
    last = int(librosa.time_to_frames(end, sr=sample_rate, hop_length=HOP))
    return slice(max(0, first), min(n_frames, max(first + 1, last)))


def _weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    return float(np.sum(values * weights) / (np.sum(weights) + 1e-12))


@register_tool
class SpectralTool(Tool):
    name = "spectral"
    version = "1"
    description = "timbre: spectral centroid, roll-off and a brightness word, per sound and over time"

    def analyse(self, waveform, sample_rate):
        power = np.abs(librosa.stft(waveform, n_fft=N_FFT, hop_length=HOP)) ** 2
        magnitude = np.sqrt(power)
        centroid = librosa.feature.spectral_centroid(S=magnitude, sr=sample_rate)[0]
        rolloff = librosa.feature.spectral_rolloff(S=magnitude, sr=sample_rate, roll_percent=0.85)[0]
        flatness = librosa.feature.spectral_flatness(S=magnitude)[0]
        energy = power.sum(axis=0)  # frames weigh by their energy: quiet frames say little
        n = centroid.size
        parts = []
        for start, end in sounding_segments(waveform, sample_rate):
            frames = _frames_between(start, end, sample_rate, n)
            parts.append({"start_s": start, "end_s": end,
                          "centroid_hz": _weighted_mean(centroid[frames], energy[frames]),
                          "rolloff_hz": _weighted_mean(rolloff[frames], energy[frames])})
        step = int(CURVE_STEP_S * sample_rate / HOP)
        data = {
            "centroid_hz": _weighted_mean(centroid, energy),
            "rolloff_hz": _weighted_mean(rolloff, energy),
            "flatness": _weighted_mean(flatness, energy),
            "segments": parts,
            "brightest_index": int(np.argmax([p["centroid_hz"] for p in parts])) if parts else None,
            "curve": {"step_s": CURVE_STEP_S, "centroid_hz": centroid[::step], "rolloff_hz": rolloff[::step]},
        }
        data["brightness"] = brightness_word(data["centroid_hz"])
        return _summary(data), data


def _summary(data: dict) -> str:
    head = (f"centroid {data['centroid_hz']:.0f} Hz ({data['brightness']}), "
            f"roll-off {data['rolloff_hz']:.0f} Hz")
    parts = data["segments"]
    if len(parts) < 2:
        return head
    listed = "; ".join(
        f"{ordinal(i)} sound {span_text(p['start_s'], p['end_s'])} centroid {p['centroid_hz']:.0f} Hz"
        for i, p in enumerate(parts[:MAX_LISTED])
    )
    return f"{head}; {listed}; brightest: {ordinal(data['brightest_index'])} sound"
