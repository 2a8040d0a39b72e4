"""Onsets / event count: when sounds (hits, notes) start, and how many there are.

librosa's spectral-flux onset detector proposes candidates; a candidate counts as an
event only when the sound right after it stands out from the background (the clip's
own sound threshold) and the level rises into it, so a noise bed does not add events.
"""

from __future__ import annotations

import librosa
import numpy as np

from audiorouter.tools.base import Tool, register_tool
from audiorouter.tools.common import HOP, frame_db, sound_threshold_db, times_text

MIN_IOI_S = 0.08  # two events closer than this are one
LOOK_S = 0.06  # level window after a candidate
RISE_DB = 3.0  # the level must rise at least this much into an event


def onset_envelope(waveform: np.ndarray, sample_rate: int) -> np.ndarray:
    mel = librosa.feature.melspectrogram(y=waveform, sr=sample_rate, n_fft=1024, hop_length=HOP, n_mels=64)
    return librosa.onset.onset_strength(S=librosa.power_to_db(mel), sr=sample_rate, lag=2, max_size=3)


def detect_onsets(waveform: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """(onset times in seconds, strength of each onset in [0, 1])."""
    envelope = onset_envelope(waveform, sample_rate)
    frames = librosa.onset.onset_detect(
        onset_envelope=envelope, sr=sample_rate, hop_length=HOP, units="frames",
        wait=int(MIN_IOI_S * sample_rate / HOP), delta=0.1, pre_max=3, post_max=3,
    )
    levels = frame_db(waveform)
    threshold = sound_threshold_db(waveform, levels)
    look = int(LOOK_S * sample_rate / HOP)
    keep = []
    for frame in frames:
        after = levels[frame : frame + look + 1].max()
        before = levels[max(0, frame - look) : frame + 1].min()
        if after >= threshold and after - before >= RISE_DB:
            keep.append(frame)
    keep = np.asarray(keep, dtype=int)
    strength = envelope[keep] / (envelope.max() + 1e-12) if keep.size else np.zeros(0)
    return librosa.frames_to_time(keep, sr=sample_rate, hop_length=HOP), strength


@register_tool
class OnsetsTool(Tool):
    name = "onsets"
    version = "1"
    description = "event onsets: how many sounds or notes start, and when (robust to background noise)"

    def analyse(self, waveform, sample_rate):
        times, strength = detect_onsets(waveform, sample_rate)
        count = int(times.size)
        data = {"count": count, "onsets_s": times, "strength": strength}
        if count == 0:
            return "0 events", data
        iois = np.diff(times)
        if count > 1:
            data["median_ioi_s"] = float(np.median(iois))
        noun = "event" if count == 1 else "events"
        return f"{count} {noun} at {times_text(list(times))}", data
