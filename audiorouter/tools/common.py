"""Shared helpers of the tools: how summaries write numbers, notes and times, and
the one segmentation of a clip into sounding parts that several tools report on."""

from __future__ import annotations

from collections.abc import Sequence

import librosa
import numpy as np

HOP = 160  # 10 ms at 16 kHz: the time grid of frame-based tools
CONFIRM_DB = 3.0  # a sounding part must exceed the threshold by this much somewhere
FRAME = 800  # 50 ms level frames: long enough to smooth noise, short enough for 0.1 s gaps
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")


def note_of(hz: float) -> str:
    """440.0 -> 'A4' (sharps, scientific pitch notation, like the questions)."""
    return str(librosa.hz_to_note(hz, unicode=False))


def ordinal(index: int) -> str:
    """0 -> 'first', ... 9 -> 'tenth', then '#11' ..."""
    return ORDINALS[index] if index < len(ORDINALS) else f"#{index + 1}"


def times_text(times: Sequence[float], limit: int = 12) -> str:
    """'0.31, 0.80, 1.52 s' (at most ``limit`` values, then '...')."""
    shown = ", ".join(f"{t:.2f}" for t in times[:limit])
    return f"{shown}{', ...' if len(times) > limit else ''} s"


def span_text(start: float, end: float) -> str:
    return f"{start:.2f}-{end:.2f} s"


def frame_db(waveform: np.ndarray, hop: int = HOP, frame: int = FRAME, center: bool = True) -> np.ndarray:
    """RMS level per frame in dBFS (50 ms frames on the 10 ms grid by default)."""
    if waveform.size < frame:
        waveform = np.pad(waveform, (0, frame - waveform.size))
    rms = librosa.feature.rms(y=waveform, frame_length=frame, hop_length=hop, center=center)[0]
    return librosa.amplitude_to_db(rms, ref=1.0, amin=1e-6, top_db=None)


def noise_floor_db(waveform: np.ndarray) -> float:
    """Level of the quiet background: a low percentile of 100 ms frame levels (long
    frames, so the noise's own flicker does not drag the estimate down)."""
    return float(np.percentile(frame_db(waveform, frame=1600, center=False), 2))


def sound_threshold_db(waveform: np.ndarray, levels_db: np.ndarray) -> float:
    """The level that separates sound from background in this clip.

    Halfway (in dB) between the background (``noise_floor_db``) and the loud part (99th
    percentile of ``levels_db``), never closer than 6 dB to the background: with a
    noise bed at 10 dB SNR this sits above the noise, and in a clean recording it sits
    well below the sound.
    """
    floor = noise_floor_db(waveform)
    peak = float(np.percentile(levels_db, 99))
    return max(floor + 6.0, (floor + peak) / 2.0)


def sounding_segments(
    waveform: np.ndarray, sample_rate: int, min_sound_s: float = 0.03, min_gap_s: float = 0.05
) -> list[tuple[float, float]]:
    """Non-silent ``(start_s, end_s)`` parts, via ``librosa.effects.split`` with the
    clip's own threshold (``sound_threshold_db``). Gaps shorter than ``min_gap_s`` are
    closed; a part must rise ``CONFIRM_DB`` above the threshold somewhere (hysteresis),
    so noise flickering around the threshold does not make segments."""
    levels = frame_db(waveform)
    threshold = sound_threshold_db(waveform, levels)
    if threshold >= float(np.max(levels)):  # one steady level throughout: all sound
        return [(0.0, waveform.size / sample_rate)]
    top_db = max(1.0, float(np.max(levels)) - threshold)
    intervals = librosa.effects.split(waveform, top_db=top_db, ref=np.max, frame_length=FRAME, hop_length=HOP)
    spans: list[list[float]] = []
    for start, end in intervals:
        if levels[start // HOP : max(start // HOP + 1, end // HOP)].max() < threshold + CONFIRM_DB:
            continue
        start_s, end_s = start / sample_rate, end / sample_rate
        if spans and start_s - spans[-1][1] < min_gap_s:
            spans[-1][1] = end_s
        else:
            spans.append([start_s, end_s])
    return [(s, e) for s, e in spans if e - s >= min_sound_s]
