"""Coarse, fallible hearing from the waveform: what the reference reasoner perceives.

Each kind of question gets one cheap measurement (numpy only) followed by a documented
perceptual error, drawn from a generator seeded by the clip and the question, so the
same input always gives the same percept. The error sizes (``EARS``) mimic how large
audio-language models fail on fine-grained perception: octave and semitone confusions,
tempo misjudged by ~12 % with octave slips, counts exact only up to three, durations
off by a third, level differences under ~4 dB and small glides missed, chord quality
barely above chance.
"""

from __future__ import annotations

import hashlib

import numpy as np

from audiorouter.reasoner.reference.questions import BINARY_KINDS, Question

HOP = 160  # 10 ms at 16 kHz
EARS = {
    "note_octave_slip": 0.3,  # probability of hearing the note an octave off
    "note_semitones_sd": 1.0,
    "interval_semitones_sd": 1.5,
    "sweep_semitones_sd": 5.0,
    "chord_sd": 0.8,  # noise on the major-minor template fit difference (typically 0.25)
    "tempo_log_sd": 0.12,
    "tempo_octave_slip": 0.25,
    "count_exact_up_to": 3,
    "count_log_sd": 0.2,
    "count_resolution_s": 0.2,  # onsets closer than this fuse into one
    "duration_log_sd": 0.3,
    "time_sd_s": 0.6,
    "level_sd_db": 8.0,
    "brightness_sd_octaves": 1.0,
}


def percept_rng(waveform: np.ndarray, question: str) -> np.random.Generator:
    digest = hashlib.sha256(np.ascontiguousarray(waveform, np.float32).tobytes() + question.encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


# ----------------------------------------------------------- coarse measurements


def level_db(wave: np.ndarray) -> np.ndarray:
    frames = wave[: wave.size // HOP * HOP].reshape(-1, HOP)
    return 10 * np.log10(np.mean(frames**2, axis=1) + 1e-10)


def sounding_runs(level: np.ndarray, merge_frames: int = 0) -> list[tuple[int, int]]:
    """Frame runs louder than halfway (in dB) between the floor and the peak."""
    if level.size == 0:
        return []
    mask = level > (np.percentile(level, 5) + np.percentile(level, 98)) / 2
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(int), [0]])))
    runs: list[tuple[int, int]] = []
    for start, end in zip(edges[::2], edges[1::2], strict=True):
        if runs and start - runs[-1][1] <= merge_frames:
            runs[-1] = (runs[-1][0], end)
        else:
            runs.append((int(start), int(end)))
    return runs


def f0_midi(segment: np.ndarray, sr: int) -> float:
    """Autocorrelation pitch of the middle of a segment, as a MIDI number."""
    mid = segment.size // 2
    chunk = segment[max(0, mid - 2048) : mid + 2048]
    if chunk.size < 512:
        return 60.0
    chunk = (chunk - chunk.mean()) * np.hanning(chunk.size)
    spectrum = np.fft.rfft(chunk, 2 * chunk.size)
    acf = np.fft.irfft(np.abs(spectrum) ** 2)[: chunk.size]
    low, high = int(sr / 1000), int(sr / 60)
    lag = low + int(np.argmax(acf[low:high]))
    return float(69 + 12 * np.log2(sr / lag / 440.0))


def centroid_hz(segment: np.ndarray, sr: int) -> float:
    magnitude = np.abs(np.fft.rfft(segment))
    freqs = np.fft.rfftfreq(segment.size, 1 / sr)
    return float((magnitude * freqs).sum() / (magnitude.sum() + 1e-12))


def tempo_bpm(level: np.ndarray) -> float:
    if level.size < 2:  # no change of level to hear a beat in: the middle of the range
        return 100.0
    rise = np.maximum(np.diff(level), 0.0)
    rise = rise - rise.mean()
    acf = np.correlate(rise, rise, mode="full")[rise.size - 1 :]
    lags = np.arange(acf.size) * HOP / 16000
    window = np.flatnonzero((lags >= 60 / 190) & (lags <= 60 / 55))
    if window.size == 0:
        return 100.0
    best = window[np.argmax(acf[window])]
    return float(60.0 / lags[best])


def chord_major_fit(segment: np.ndarray, sr: int) -> float:
    """How much better a major than a minor triad template fits the pitch classes."""
    magnitude = np.abs(np.fft.rfft(segment * np.hanning(segment.size)))
    freqs = np.fft.rfftfreq(segment.size, 1 / sr)
    keep = (freqs > 60) & (freqs < 2000)
    classes = np.round(12 * np.log2(freqs[keep] / 440.0)).astype(int) % 12
    chroma = np.bincount(classes, weights=magnitude[keep] ** 2, minlength=12)
    chroma /= chroma.sum() + 1e-12
    fit = {q: max(chroma[[r, (r + t) % 12, (r + 7) % 12]].sum() for r in range(12)) for q, t in (("M", 4), ("m", 3))}
    return float(fit["M"] - fit["m"])


def two_parts(wave: np.ndarray, level: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sound before and after its longest pause (or the two halves of the sound)."""
    runs = sounding_runs(level, merge_frames=3) or [(0, level.size)]
    if len(runs) < 2:
        start, end = runs[0]
        if end - start < 2:  # a single frame: its two halves
            sound = wave[start * HOP : end * HOP]
            return sound[: sound.size // 2], sound[sound.size // 2 :]
        middle = (start + end) // 2
        return wave[start * HOP : middle * HOP], wave[middle * HOP : end * HOP]
    k = max(range(len(runs) - 1), key=lambda i: runs[i + 1][0] - runs[i][1])
    return wave[runs[0][0] * HOP : runs[k][1] * HOP], wave[runs[k + 1][0] * HOP : runs[-1][1] * HOP]


# ------------------------------------------------------------------ percepts


def perceive(question: Question, text: str, wave: np.ndarray, sr: int) -> float:
    """The value the reasoner hears, on the question kind's scale."""
    rng = percept_rng(wave, text)
    if wave.size < HOP:  # under one 10 ms frame: heard as that frame, the rest silence
        wave = np.pad(wave, (0, HOP - wave.size))
    level = level_db(wave)
    runs = sounding_runs(level) or [(0, level.size)]
    kind = question.kind
    if kind == "note":
        start, end = max(runs, key=lambda r: r[1] - r[0])
        slip = 12 * rng.choice([-1, 1]) if rng.random() < EARS["note_octave_slip"] else 0
        return f0_midi(wave[start * HOP : end * HOP], sr) + slip + rng.normal(0, EARS["note_semitones_sd"])
    if kind in ("interval", "direction"):
        first, second = two_parts(wave, level)
        step = f0_midi(second, sr) - f0_midi(first, sr) + rng.normal(0, EARS["interval_semitones_sd"])
        return abs(step) if kind == "interval" else step
    if kind == "sweep":
        start, end = runs[0][0], runs[-1][1]
        quarter = max(1, (end - start) // 4)
        glide = f0_midi(wave[(end - quarter) * HOP : end * HOP], sr) - f0_midi(
            wave[start * HOP : (start + quarter) * HOP], sr
        )
        return float(np.clip(glide, -12, 12)) + rng.normal(0, EARS["sweep_semitones_sd"])
    if kind == "chord":
        start, end = max(runs, key=lambda r: r[1] - r[0])
        return chord_major_fit(wave[start * HOP : end * HOP], sr) + rng.normal(0, EARS["chord_sd"])
    if kind == "tempo":
        slip = 2.0 ** rng.choice([-1, 1]) if rng.random() < EARS["tempo_octave_slip"] else 1.0
        return tempo_bpm(level) * slip * float(np.exp(rng.normal(0, EARS["tempo_log_sd"])))
    if kind == "count":
        count = len(onset_frames(level, int(EARS["count_resolution_s"] * sr / HOP)))
        if count > EARS["count_exact_up_to"]:
            count = count * float(np.exp(rng.normal(0, EARS["count_log_sd"])))
        return float(count)
    if kind == "duration":
        start, end = max(runs, key=lambda r: r[1] - r[0])
        return (end - start) * HOP / sr * float(np.exp(rng.normal(0, EARS["duration_log_sd"])))
    if kind == "time":
        return quietest_dip_s(level, runs) + rng.normal(0, EARS["time_sd_s"])
    if kind in ("louder", "brighter"):
        first, second = two_parts(wave, level)
        if kind == "louder":
            diff = 10 * np.log10((np.mean(first**2) + 1e-12) / (np.mean(second**2) + 1e-12))
            return float(diff + rng.normal(0, EARS["level_sd_db"]))
        ratio = np.log2(centroid_hz(first, sr) / max(centroid_hz(second, sr), 1e-6))
        return float(ratio + rng.normal(0, EARS["brightness_sd_octaves"]))
    return float(rng.integers(len(question.values)))  # unknown kind: a guess


def onset_frames(level: np.ndarray, refractory: int, jump_db: float = 6.0) -> list[int]:
    """Frames where the level jumps by ``jump_db`` within 30 ms into the loud half;
    a new onset is heard only ``refractory`` frames after the previous one."""
    loud = level > (np.percentile(level, 5) + np.percentile(level, 98)) / 2
    onsets: list[int] = []
    for i in range(3, level.size):
        if loud[i] and level[i] - level[i - 3 : i].min() > jump_db and (not onsets or i - onsets[-1] >= refractory):
            onsets.append(i)
    return onsets


def quietest_dip_s(level: np.ndarray, runs: list[tuple[int, int]]) -> float:
    start, end = runs[0][0], runs[-1][1]
    inside = level[start:end]
    if inside.size < 12:
        return start * HOP / 16000
    smooth = np.convolve(inside, np.ones(10) / 10, mode="same")
    return (start + int(np.argmin(smooth[5:-5])) + 5) * HOP / 16000


def hearing_scores(question: Question, percept: float) -> list[float]:
    """One score per choice from the percept: closer is better; binary kinds by sign."""
    if question.kind in BINARY_KINDS:
        return [float(v * np.tanh(percept)) for v in question.values]
    if question.kind == "unknown":
        return [1.0 if i == int(percept) else 0.0 for i in range(len(question.values))]
    if question.kind in ("tempo", "duration"):
        return [-abs(float(np.log(max(percept, 1e-6) / v))) for v in question.values]
    return [-abs(percept - v) for v in question.values]
