"""Pitch: an f0 track (librosa pYIN), the median pitch with its note name, stable-note
segments with times, the steps between notes and the overall contour (glides)."""

from __future__ import annotations

import librosa
import numpy as np
import scipy.stats

from audiorouter.tools.base import Tool, register_tool
from audiorouter.tools.common import note_of, sounding_segments, span_text

FMIN, FMAX = 65.0, 2100.0  # C2 .. C7
FRAME, HOP = 2048, 320  # 128 ms window, 20 ms step
PYIN_RESOLUTION = 0.25  # semitones per pYIN pitch bin
MIN_NOTE_S = 0.08  # shorter runs are glitches, not notes
STEADY_SEMITONES = 0.5  # a contour that moves less than this is "steady"
MAX_NOTES = 12


def f0_track(waveform: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """(times_s, f0_hz with NaN where unvoiced or where nothing sounds above the
    background: pYIN finds "pitch" in noise beds too).

    pYIN (voicing and the pitch path) runs on a 0.25-semitone grid, five times faster
    than its 0.1 default; YIN's parabolic-interpolated f0 then refines each frame
    where it agrees with pYIN within that grid step."""
    f0, voiced, _ = librosa.pyin(
        waveform, fmin=FMIN, fmax=FMAX, sr=sample_rate, frame_length=FRAME, hop_length=HOP,
        resolution=PYIN_RESOLUTION,
    )
    fine = librosa.yin(waveform, fmin=FMIN, fmax=FMAX, sr=sample_rate, frame_length=FRAME, hop_length=HOP)
    agree = np.abs(12 * np.log2(fine / np.where(voiced, f0, fine))) < PYIN_RESOLUTION
    f0 = np.where(agree, fine, f0)  # YIN's interpolated value where it agrees with pYIN's grid
    times = librosa.times_like(f0, sr=sample_rate, hop_length=HOP)
    sounding = np.zeros(f0.size, dtype=bool)
    for start, end in sounding_segments(waveform, sample_rate):
        sounding |= (times >= start) & (times <= end)
    return times, np.where(voiced & sounding, f0, np.nan)


def note_segments(times: np.ndarray, f0: np.ndarray) -> list[dict]:
    """Runs of voiced frames on one semitone (nearest MIDI note), at least MIN_NOTE_S."""
    midi = librosa.hz_to_midi(f0)
    step = float(times[1] - times[0]) if times.size > 1 else HOP / 16000
    notes, start = [], None
    for i in range(midi.size + 1):
        here = None if i == midi.size or np.isnan(midi[i]) else int(np.round(midi[i]))
        if start is not None and (here is None or here != int(np.round(midi[start]))):
            if (i - start) * step >= MIN_NOTE_S:
                hz = float(np.median(f0[start:i]))
                notes.append({"start_s": float(times[start]), "end_s": float(times[i - 1] + step),
                              "f0_hz": hz, "midi": round(float(librosa.hz_to_midi(hz)), 2),
                              "note": note_of(hz)})
            start = None
        if start is None and here is not None:
            start = i
    return _merge_repeats(notes)


def _merge_repeats(notes: list[dict], max_gap_s: float = 0.05) -> list[dict]:
    """Join a note split by a momentary glitch (same note name, tiny gap)."""
    merged: list[dict] = []
    for note in notes:
        last = merged[-1] if merged else None
        if last and last["note"] == note["note"] and note["start_s"] - last["end_s"] <= max_gap_s:
            last["end_s"] = note["end_s"]
        else:
            merged.append(dict(note))
    return merged


def contour(times: np.ndarray, f0: np.ndarray) -> dict | None:
    """Straight-line fit (Theil-Sen) of pitch in semitones against time over the voiced
    frames of the note segments."""
    voiced = ~np.isnan(f0)
    if voiced.sum() < 3:
        return None
    t, m = times[voiced], librosa.hz_to_midi(f0[voiced])
    slope, intercept, _, _ = scipy.stats.theilslopes(m, t)  # robust to stray frames
    change = float(slope * (t[-1] - t[0]))
    word = "steady" if abs(change) < STEADY_SEMITONES else ("rising" if change > 0 else "falling")
    return {"direction": word, "change_semitones": change, "slope_semitones_per_s": float(slope),
            "start_hz": float(librosa.midi_to_hz(intercept + slope * t[0])),
            "end_hz": float(librosa.midi_to_hz(intercept + slope * t[-1]))}


@register_tool
class PitchTool(Tool):
    name = "pitch"
    version = "1"
    description = "pitch: f0 track, median pitch and note name, stable notes with times, steps and glide direction"

    def analyse(self, waveform, sample_rate):
        times, f0 = f0_track(waveform, sample_rate)
        voiced = ~np.isnan(f0)
        if not voiced.any():
            return "no pitched sound", {"median_hz": None, "notes": [], "track": _track(times, f0)}
        median = float(np.median(f0[voiced]))
        notes = note_segments(times, f0)
        in_notes = np.zeros(f0.size, dtype=bool)
        for note in notes:
            in_notes |= (times >= note["start_s"]) & (times < note["end_s"])
        data = {
            "median_hz": median,
            "median_note": note_of(median),
            "voiced_s": float(voiced.sum() * (times[1] - times[0] if times.size > 1 else 0.0)),
            "voiced_span_s": [float(times[voiced][0]), float(times[voiced][-1])],
            "notes": notes,
            "steps_semitones": [
                int(librosa.note_to_midi(b["note"]) - librosa.note_to_midi(a["note"]))
                for a, b in zip(notes, notes[1:], strict=False)
            ],
            "contour": contour(times, np.where(in_notes, f0, np.nan)),
            "track": _track(times, f0),
        }
        return _summary(data), data


def _track(times: np.ndarray, f0: np.ndarray) -> dict:
    """The f0 track: frame i is at ``i * step_s`` seconds; null where unvoiced."""
    return {"step_s": float(times[1] - times[0]) if times.size > 1 else HOP / 16000, "f0_hz": f0}


def _summary(data: dict) -> str:
    start, end = data["voiced_span_s"]
    text = f"median pitch {data['median_hz']:.1f} Hz ({data['median_note']}), voiced {span_text(start, end)}"
    notes = data["notes"]
    if notes:
        listed = ", ".join(f"{n['note']} {span_text(n['start_s'], n['end_s'])}" for n in notes[:MAX_NOTES])
        more = ", ..." if len(notes) > MAX_NOTES else ""
        text += f"; {len(notes)} stable note{'s' if len(notes) != 1 else ''}: {listed}{more}"
    if data["steps_semitones"]:
        text += "; steps " + ", ".join(f"{s:+d}" for s in data["steps_semitones"][:MAX_NOTES]) + " semitones"
    shape = data["contour"]
    if shape and shape["direction"] != "steady":
        text += (f"; pitch {shape['direction']} {abs(shape['change_semitones']):.1f} semitones "
                 f"({shape['start_hz']:.0f} to {shape['end_hz']:.0f} Hz)")
    return text
