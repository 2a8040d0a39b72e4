"""Each family's label agrees with an independent measurement of the generated audio.

The measurements use librosa (pitch, onsets, beats, chroma, spectral centroid, RMS) on
the decoded FLAC, never the generator's code; only segment times come from ``meta``.
"Nearly all" is a per-family agreement rate over items of every difficulty level.
"""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from audiorouter.contracts import SAMPLE_RATE as SR
from audiorouter.data.audio_io import decode_audio
from audiorouter.data.synth import family_names, generate_family_items, get_family

ITEMS_PER_FAMILY = 30
# chroma_cqt analyses its lowest octaves on short downsampled frames; harmless here.
pytestmark = pytest.mark.filterwarnings("ignore:n_fft=.*is too large:UserWarning")
HOP = 256


def waveform(item):
    wave, sr = decode_audio(item.audio)
    assert sr == SR
    return wave


def cut(wave, start_s, end_s, margin=0.1):
    return wave[int((start_s + margin) * SR) : int((end_s - margin) * SR)]


def median_midi(wave) -> float:
    f0 = librosa.yin(wave, fmin=60, fmax=2000, sr=SR, frame_length=2048)
    return float(np.median(librosa.hz_to_midi(f0)))


def nearest_choice(item, measured: float, parse=lambda c: float(c.split()[0])) -> str:
    return min(item.choices, key=lambda c: abs(parse(c) - measured))


def rms_db(wave) -> np.ndarray:
    return librosa.amplitude_to_db(librosa.feature.rms(y=wave, frame_length=2 * HOP, hop_length=HOP)[0], ref=1.0)


def sounding_mask(wave) -> np.ndarray:
    """Frames louder than halfway (in dB) between the noise floor and the sound."""
    level = rms_db(wave)
    floor, top = np.percentile(level, 5), np.percentile(level, 95)
    return level > (floor + top) / 2


# --------------------------------------------------------------- one check per family


def check_note_name(item):
    midi = int(round(median_midi(cut(waveform(item), item.meta["start_s"], item.meta["end_s"]))))
    names = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
    return f"{names[midi % 12]}{midi // 12 - 1}" == item.answer


def check_interval(item):
    wave = waveform(item)
    first, second = (median_midi(cut(wave, *seg)) for seg in item.meta["segments_s"])
    semitones = int(round(second - first))
    if item.sub_category == "direction":
        return ("ascending" if semitones > 0 else "descending") == item.answer
    return item.answer.endswith(f"({abs(semitones)} semitone{'s' if abs(semitones) > 1 else ''})")


def onset_times(wave, delta=0.2) -> np.ndarray:
    onsets = librosa.onset.onset_detect(y=wave, sr=SR, hop_length=HOP, units="time", delta=delta)
    # The noise bed starts with the clip, which reads as an onset in the first frames;
    # every generated sound starts after 0.15 s.
    return onsets[onsets > 0.15]


def count_onsets(wave) -> int:
    return len(onset_times(wave))


def check_note_count(item):
    return str(count_onsets(waveform(item))) == item.answer


def check_event_count(item):
    return str(count_onsets(waveform(item))) == item.answer


def check_tempo(item, hop=64):
    """Beat period = the shortest strong periodicity (60-190 BPM) of the rise in RMS
    energy; soft off-beat ghost notes barely move the energy, loud beats do."""
    rms = librosa.feature.rms(y=waveform(item), frame_length=512, hop_length=hop)
    strength = librosa.onset.onset_strength(S=rms, sr=SR, hop_length=hop, lag=2)
    acf = librosa.autocorrelate(strength - strength.mean())
    lags = np.arange(acf.size) * hop / SR
    window = np.flatnonzero((lags >= 60 / 190) & (lags <= 60 / 55))
    peaks = [i for i in window if acf[i] >= acf[i - 1] and acf[i] >= acf[i + 1]]
    best = max(acf[i] for i in peaks)
    period = lags[min(i for i in peaks if acf[i] >= 0.8 * best)]
    return nearest_choice(item, 60.0 / period) == item.answer


def check_chord_quality(item):
    chroma = librosa.feature.chroma_cqt(y=cut(waveform(item), item.meta["start_s"], item.meta["end_s"]), sr=SR)
    profile = chroma.mean(axis=1)
    scores = {}
    for quality, third in (("major", 4), ("minor", 3)):
        template = np.zeros(12)
        template[[0, third, 7]] = 1.0
        scores[quality] = max(np.dot(np.roll(template, root), profile) for root in range(12))
    return max(scores, key=scores.get) == item.answer


def check_duration(item):
    mask = sounding_mask(waveform(item)).astype(int)
    # The longest run of sounding frames (noise can poke above the line elsewhere).
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask, [0]])))
    seconds = max(end - start for start, end in zip(edges[::2], edges[1::2], strict=True)) * HOP / SR
    return nearest_choice(item, seconds) == item.answer


def check_loudness_compare(item):
    wave = waveform(item)
    levels = [np.sqrt(np.mean(cut(wave, *seg) ** 2)) for seg in item.meta["segments_s"]]
    return item.answer == ("the first sound" if levels[0] > levels[1] else "the second sound")


def check_brightness_compare(item):
    wave = waveform(item)
    centroids = [
        np.median(librosa.feature.spectral_centroid(y=cut(wave, *seg), sr=SR)) for seg in item.meta["segments_s"]
    ]
    return item.answer == ("the first sound" if centroids[0] > centroids[1] else "the second sound")


def check_sweep_direction(item):
    part = cut(waveform(item), item.meta["start_s"], item.meta["end_s"])
    third = part.size // 3
    rise = median_midi(part[-third:]) - median_midi(part[:third])
    return ("rising" if rise > 0 else "falling") == item.answer


def check_gap_position(item):
    wave = waveform(item)
    level = rms_db(wave)
    frames = np.arange(level.size)
    inside = (frames * HOP / SR > item.meta["sound_start_s"] + 0.05) & (
        frames * HOP / SR < item.meta["sound_end_s"] - 0.05
    )
    quiet = inside & (level < np.median(level[inside]) - 15)
    gap_start = np.flatnonzero(quiet)[0] * HOP / SR
    return nearest_choice(item, gap_start) == item.answer


def check_word_count(item):
    """Easy items leave pauses between words: count the bursts of speech energy.
    (Connected speech at medium/hard needs a recogniser: the ASR tool's tests.)"""
    mask = sounding_mask(waveform(item)).astype(int)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask, [0]])))
    bursts: list[list[int]] = []
    for start, end in zip(edges[::2], edges[1::2], strict=True):
        if bursts and (start - bursts[-1][1]) * HOP / SR < 0.08:  # a stop inside a word
            bursts[-1][1] = end
        else:
            bursts.append([start, end])
    return str(len(bursts)) == item.answer


CHECKS = {
    "note_name": check_note_name,
    "interval": check_interval,
    "note_count": check_note_count,
    "tempo": check_tempo,
    "chord_quality": check_chord_quality,
    "event_count": check_event_count,
    "duration": check_duration,
    "loudness_compare": check_loudness_compare,
    "brightness_compare": check_brightness_compare,
    "sweep_direction": check_sweep_direction,
    "gap_position": check_gap_position,
    "word_count": check_word_count,
}
LEVEL_CHECKED = {"word_count": "easy"}
# Agreement needed: exact-physics checks must always agree; estimator-based ones
# (onsets, beat tracking, chroma) are allowed the estimator's own occasional miss.
MIN_AGREEMENT = {"note_count": 0.9, "event_count": 0.9, "duration": 0.9, "word_count": 0.9}


def test_every_family_has_a_label_check():
    assert set(CHECKS) == set(family_names())


@pytest.mark.parametrize("family", sorted(CHECKS))
def test_label_agrees_with_independent_measurement(family):
    reason = get_family(family).unavailable_reason()
    if reason:
        pytest.skip(reason)
    items = generate_family_items(family, ITEMS_PER_FAMILY, seed=7, difficulty=LEVEL_CHECKED.get(family))
    agreed = [CHECKS[family](item) for item in items]
    rate = float(np.mean(agreed))
    misses = [(i.id, i.difficulty) for i, ok in zip(items, agreed, strict=True) if not ok]
    print(f"{family}: {rate:.0%} agree; misses {misses}")
    assert rate >= MIN_AGREEMENT.get(family, 0.95), misses
