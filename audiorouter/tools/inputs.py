"""What every tool receives, and what happens to bad input (one rule for all tools).

=================  ============================================================
input              outcome
=================  ============================================================
zero-length        error result: "audio has no samples"
NaN / inf samples  error result: "audio has N NaN/inf samples"
bad sample rate    error result: "sample rate must be a positive integer"
other rates        resampled to 16 kHz (soxr), channels averaged to mono
longer than cap    ``long_clips="truncate"``: the first ``max_duration_s`` seconds
                   are analysed, ``data["input"]["truncated_from_s"]`` says so and
                   the summary ends with "(first N s of M s analysed)";
                   ``long_clips="error"``: error result naming the limit. A file
                   read by its window (``read_clip``, ``ToolRunner.run_clip``) is
                   noted the same way (``note_window``)
silence            ok result, summary "silent: no sound above -80 dBFS"
clipping           analysed as is; ``data["input"]["clipped_fraction"]`` and,
                   from 0.1 % of samples at full scale, "(input clipped)"
=================  ============================================================
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from audiorouter.contracts import SAMPLE_RATE, ToolResult
from audiorouter.data.audio_io import AudioError, Clip, audio_hash, to_mono_16k
from audiorouter.validation import check_waveform

SILENCE_PEAK = 1e-4  # -80 dBFS
FULL_SCALE = 0.999
CLIPPED_NOTE_FRACTION = 0.001


@dataclass(frozen=True)
class ClipLimits:
    """How every tool receives a clip (the cut) and what the user knows of the clips."""

    max_duration_s: float = 120.0
    long_clips: str = "truncate"  # or "error"
    speech_language: str = ""  # the language spoken, when known ("" = speech tools detect it)

    @classmethod
    def from_config(cls, config: Any) -> ClipLimits:
        return cls(max_duration_s=config.max_duration_s, long_clips=config.long_clips,
                   speech_language=config.speech_language)


@dataclass
class PreparedClip:
    waveform: np.ndarray  # float32 mono 16 kHz, finite, non-empty
    sample_rate: int
    original_duration_s: float
    truncated: bool
    clipped_fraction: float
    silent: bool

    def annotate(self, summary: str, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Add the input notes (truncation, clipping) to a tool's summary and data."""
        notes = {"duration_s": round(self.waveform.size / self.sample_rate, 3)}
        if self.clipped_fraction > 0:
            notes["clipped_fraction"] = round(self.clipped_fraction, 5)
        if self.clipped_fraction >= CLIPPED_NOTE_FRACTION:
            summary += " (input clipped)"
        if self.truncated:
            notes["truncated_from_s"] = round(self.original_duration_s, 3)
            summary += cut_note(self.waveform.size / self.sample_rate, self.original_duration_s)
        return summary, {**data, "input": notes}


def cut_note(analysed_s: float, duration_s: float | None) -> str:
    """What a summary says of a clip longer than what was analysed."""
    if duration_s is None:
        return f" (first {analysed_s:g} s analysed; the file does not state its length)"
    return f" (first {analysed_s:g} s of {duration_s:.1f} s analysed)"


def note_window(result: ToolResult, clip: Clip) -> ToolResult:
    """A tool's result on the window ``read_clip`` took of a longer file, saying so as a
    cut in ``prepare_clip`` does: ``data["input"]["truncated_from_s"]`` (None when the
    file does not state its length) and the summary's note. Results on a whole file, and
    errors, are returned as they are. (Results are cached by the window's samples, so the
    note is added after the cache, never stored in it.)"""
    if not (clip.truncated and result.ok):
        return result
    analysed = clip.waveform.size / SAMPLE_RATE
    stated = None if clip.duration_s is None else round(clip.duration_s, 3)
    notes = {**result.data.get("input", {}), "truncated_from_s": stated}
    return replace(result, summary=result.summary + cut_note(analysed, clip.duration_s),
                   data={**result.data, "input": notes})


def _as_mono(waveform: np.ndarray) -> np.ndarray:
    wave = np.asarray(waveform)
    if wave.ndim == 2:  # (channels, n) or (n, channels): average the short axis
        wave = wave.mean(axis=0 if wave.shape[0] <= wave.shape[1] else 1)
    if wave.ndim != 1:
        raise AudioError(f"waveform must be 1-D or 2-D, got shape {wave.shape}")
    return wave.astype(np.float32, copy=True)  # a private, writable copy


def _check_rate(sample_rate: Any) -> int:
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) or sample_rate <= 0:
        raise AudioError(f"sample rate must be a positive integer, got {sample_rate!r}")
    return int(sample_rate)


def prepare_clip(waveform: np.ndarray, sample_rate: int, limits: ClipLimits) -> PreparedClip:
    """Check, resample, cut; raises AudioError for input no tool can use."""
    rate = _check_rate(sample_rate)
    wave = _as_mono(waveform)
    check_waveform(wave, rate, max_duration_s=float("inf"))  # empty, NaN/inf
    duration = wave.size / rate
    truncated = duration > limits.max_duration_s
    if truncated:
        if limits.long_clips == "error":
            raise AudioError(f"duration {duration:.1f} s exceeds the limit of {limits.max_duration_s:g} s")
        wave = wave[: int(limits.max_duration_s * rate)]
    clipped = float(np.mean(np.abs(wave) >= FULL_SCALE))
    wave = to_mono_16k(wave, rate)
    if wave.size == 0:
        raise AudioError("audio has no samples after resampling")
    silent = float(np.max(np.abs(wave))) < SILENCE_PEAK
    return PreparedClip(wave, SAMPLE_RATE, duration, truncated, clipped, silent)


def clip_key(waveform: np.ndarray, sample_rate: int, limits: ClipLimits) -> str:
    """Content address of a clip as a tool sees it: the samples, plus the rate when it is
    not 16 kHz and the cut when the clip is longer than the cap."""
    key = audio_hash(np.asarray(waveform, dtype=np.float32))
    extra = []
    if sample_rate != SAMPLE_RATE:
        extra.append(f"sr={sample_rate}/soxr-hq")  # the resampler is part of what the tool saw
    if max(np.shape(waveform), default=0) / max(int(sample_rate), 1) > limits.max_duration_s:
        extra.append(f"cut={limits.max_duration_s:g}/{limits.long_clips}")
    if not extra:
        return key
    return hashlib.sha256("|".join([key, *extra]).encode()).hexdigest()
