"""Key and chords: the key and mode (Krumhansl-Kessler profiles on librosa chroma) and
major/minor chord labels per segment (or "X note" where one pitch sounds alone) (chord templates on CQT chroma, decoded with
librosa's Viterbi, as in librosa's chord-recognition example).

Chord templates count the first harmonics of each chord tone (weights 0.6^(k-1)): a
real tone's 3rd and 5th harmonics light up the fifth and the major third, which
plain 0/1 templates would mistake for chord tones.
"""

from __future__ import annotations

import warnings

import librosa
import numpy as np

from audiorouter.tools.base import Tool, register_tool
from audiorouter.tools.common import sounding_segments, span_text

PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
QUALITIES = {"major": (0, 4, 7), "minor": (0, 3, 7), "note": (0,)}  # "note": one pitch, no chord
HARMONICS, HARMONIC_DECAY = 6, 0.6
CHROMA_HOP = 512  # 32 ms
MIN_CHORD_S = 0.2
SHARPNESS = 20.0  # softmax temperature for template similarities
# Krumhansl-Kessler key profiles (major, minor), tonic first.
KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def _chord_templates() -> tuple[list[str], np.ndarray]:
    """Labels ('C major', ...) and unit-norm 12-bin templates, harmonics included."""
    labels, rows = [], []
    for quality, intervals in QUALITIES.items():
        for root in range(12):
            row = np.zeros(12)
            for interval in intervals:
                for k in range(1, HARMONICS + 1):
                    pc = (root + interval + int(round(12 * np.log2(k)))) % 12
                    row[pc] += HARMONIC_DECAY ** (k - 1)
            labels.append(f"{PITCH_CLASSES[root]} {quality}")
            rows.append(row / np.linalg.norm(row))
    return labels, np.array(rows)


LABELS, TEMPLATES = _chord_templates()


def estimate_key(chroma_mean: np.ndarray) -> tuple[str, float]:
    """('A minor', correlation) of the best-correlated rotated key profile."""
    best, name = -2.0, ""
    for mode, profile in (("major", KK_MAJOR), ("minor", KK_MINOR)):
        for tonic in range(12):
            r = float(np.corrcoef(chroma_mean, np.roll(profile, tonic))[0, 1])
            if r > best:
                best, name = r, f"{PITCH_CLASSES[tonic]} {mode}"
    return name, best


def decode_chords(chroma: np.ndarray) -> np.ndarray:
    """Chord index per frame: template similarity -> probabilities -> Viterbi."""
    unit = chroma / (np.linalg.norm(chroma, axis=0, keepdims=True) + 1e-9)
    scores = np.exp(SHARPNESS * (TEMPLATES @ unit))
    probs = scores / scores.sum(axis=0, keepdims=True)
    transition = librosa.sequence.transition_loop(len(LABELS), 0.95)
    return librosa.sequence.viterbi_discriminative(probs, transition)


def chord_segments(chroma: np.ndarray, times: np.ndarray, spans: list[tuple[float, float]]) -> list[dict]:
    """One chord label per run of equal decoded labels inside the sounding spans."""
    out = []
    for start, end in spans:
        inside = np.flatnonzero((times >= start) & (times < end))
        if inside.size == 0:
            continue
        path = decode_chords(chroma[:, inside])
        cuts = np.flatnonzero(np.diff(path)) + 1
        for run in np.split(np.arange(path.size), cuts):
            t0, t1 = times[inside[run[0]]], min(end, times[inside[run[-1]]] + CHROMA_HOP / 16000)
            if t1 - t0 >= MIN_CHORD_S:
                out.append({"start_s": float(t0), "end_s": float(t1), "chord": LABELS[path[run[0]]]})
    return _merge_same(out)


def _merge_same(chords: list[dict]) -> list[dict]:
    merged: list[dict] = []
    for chord in chords:
        if merged and merged[-1]["chord"] == chord["chord"] and chord["start_s"] - merged[-1]["end_s"] < 0.1:
            merged[-1]["end_s"] = chord["end_s"]
        else:
            merged.append(dict(chord))
    return merged


@register_tool
class ChordsTool(Tool):
    name = "chords"
    version = "1"
    description = "key and mode, and major/minor chord labels per segment with times"

    def analyse(self, waveform, sample_rate):
        with warnings.catch_warnings():  # CQT's low octaves warn about short frames on short clips
            warnings.filterwarnings("ignore", message="n_fft=.*is too large")
            chroma = librosa.feature.chroma_cqt(y=waveform, sr=sample_rate, hop_length=CHROMA_HOP)
        times = librosa.times_like(chroma, sr=sample_rate, hop_length=CHROMA_HOP)
        spans = sounding_segments(waveform, sample_rate)
        chords = chord_segments(chroma, times, spans)
        sounding = np.zeros(times.size, dtype=bool)
        for start, end in spans:
            sounding |= (times >= start) & (times < end)
        profile = chroma[:, sounding].mean(axis=1) if sounding.any() else chroma.mean(axis=1)
        key, strength = estimate_key(profile)
        data = {"key": key, "key_strength": strength, "chords": chords,
                "chroma_mean": dict(zip(PITCH_CLASSES, profile, strict=True))}
        return _summary(key, chords), data


def _summary(key: str, chords: list[dict]) -> str:
    if not any(c["chord"].endswith(("major", "minor")) for c in chords):
        notes = ", ".join(dict.fromkeys(c["chord"].split()[0] for c in chords))
        return f"no chord (single notes {notes}); key {key}" if notes else f"no chord held long enough; key {key}"
    if len(chords) == 1:
        c = chords[0]
        return f"chord {c['chord']} {span_text(c['start_s'], c['end_s'])}; key {key}"
    listed = ", ".join(f"{c['chord']} {span_text(c['start_s'], c['end_s'])}" for c in chords[:8])
    return f"chords {listed}{', ...' if len(chords) > 8 else ''}; key {key}"
