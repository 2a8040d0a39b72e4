"""Sound families: event count, duration, louder of two, brighter of two, sweep
direction, position of a silence gap.

Ground truth in ``meta`` (besides the difficulty knobs under ``meta["knobs"]``):
event_count        count, onsets_s, kind
duration           duration_s, start_s, end_s, source
loudness_compare   louder ("first"/"second"), levels_db, segments_s
brightness_compare brighter ("first"/"second"), brightness, segments_s, f0_hz
sweep_direction    direction, start_hz, end_hz, start_s, end_s
gap_position       gap_start_s, gap_end_s, sound_start_s, sound_end_s
"""

from __future__ import annotations

import numpy as np

from audiorouter.data.synth.base import (
    SynthClip,
    TaskFamily,
    binary_choices,
    numeric_distractors,
    register_family,
    shuffled_choices,
)
from audiorouter.data.synth.instruments import (
    midi_to_hz,
    noise,
    normalise_peak,
    place,
    rms,
    seconds,
)
from audiorouter.data.synth.music import SNR_DB, SUSTAINED, pick_timbre
from audiorouter.data.synth.voices import Voices

FIRST_SECOND = ("the first sound", "the second sound")
HIT_NAMES = {"knock": "knock", "clap": "clap", "beep": "beep", "woodblock": "wood-block hit"}


def held_sound(voices: Voices, rng: np.random.Generator, length: float) -> tuple[np.ndarray, str]:
    """A steady sound: a sustained instrument tone (on ``voices``) or a band of hum-like
    noise (synthetic on any voices: it is no instrument)."""
    if rng.random() < 0.6:
        timbre = pick_timbre(rng, SUSTAINED)
        return voices.tone(midi_to_hz(int(rng.integers(50, 75))), length, timbre, rng), timbre
    band = noise(seconds(length), rng, "pink")
    ramp = min(band.size, seconds(0.02))
    band[:ramp] *= np.linspace(0, 1, ramp)
    band[-ramp:] *= np.linspace(1, 0, ramp)
    return normalise_peak(band), "noise"


@register_family
class EventCount(TaskFamily):
    name = "event_count"
    category = "sound"
    real_instruments = True
    templates = (
        "How many {hits} can you hear?",
        "Count the {hits} in this recording.",
        "How many times does the {hit} sound occur?",
        "How many separate {hits} are there?",
    )
    MIN_GAP_S = {"easy": 0.5, "medium": 0.3, "hard": 0.15}

    def make(self, rng, level):
        count = int(rng.integers(1, 10))
        kind = str(rng.choice(list(HIT_NAMES)))
        gap = self.MIN_GAP_S[level]
        onsets, t = [], rng.uniform(0.2, 0.5)
        for _ in range(count):
            onsets.append(t)
            t += gap + rng.uniform(0.05, 0.5) + 0.15
        track = np.zeros(seconds(t + 0.3))
        for onset in onsets:
            place(track, self.voices.hit(kind, rng), onset, rng.uniform(0.7, 1.0))
        distractors = [str(int(c)) for c in numeric_distractors(rng, count, 1, 1, 12)]
        hit = HIT_NAMES[kind]
        return SynthClip(
            waveform=self.voices.finish(track, SNR_DB[level], rng),
            question=self.question(rng, hit=hit, hits=hit + "s"),
            choices=shuffled_choices(rng, str(count), distractors),
            answer=str(count),
            sub_category="event_counting",
            meta=dict(count=count, onsets_s=onsets, kind=kind,
                      knobs=dict(snr_db=SNR_DB[level], min_gap_s=gap)),
        )


@register_family
class Duration(TaskFamily):
    name = "duration"
    category = "sound"
    real_instruments = True
    templates = (
        "How long does the sound last?",
        "What is the duration of the sound in this clip?",
        "For how many seconds is the sound audible?",
        "How many seconds does the tone or noise go on for?",
    )
    STEP = {"easy": 0.5, "medium": 0.25, "hard": 0.12}  # choice spacing relative to the truth

    def make(self, rng, level):
        length = round(float(rng.uniform(0.4, 4.0)), 1)
        start = rng.uniform(0.3, 1.0)
        sound, source = held_sound(self.voices, rng, length)
        track = np.zeros(seconds(start + length + rng.uniform(0.3, 1.0)))
        place(track, sound, start)
        step = max(0.1, round(length * self.STEP[level], 1))
        distractors = [f"{v:.1f} s" for v in numeric_distractors(rng, length, step, 0.1, 8.0, k=6)]
        answer = f"{length:.1f} s"
        return SynthClip(
            waveform=self.voices.finish(track, SNR_DB[level], rng),
            question=self.question(rng),
            choices=shuffled_choices(rng, answer, distractors),
            answer=answer,
            sub_category="duration_estimation",
            meta=dict(duration_s=length, start_s=start, end_s=start + length, source=source,
                      knobs=dict(snr_db=SNR_DB[level], choice_step_s=step)),
        )


def two_segments(rng: np.random.Generator, length: float) -> list[list[float]]:
    start, gap = rng.uniform(0.2, 0.4), rng.uniform(0.3, 0.6)
    return [[start, start + length], [start + length + gap, start + 2 * length + gap]]


@register_family
class LoudnessCompare(TaskFamily):
    name = "loudness_compare"
    category = "sound"
    real_instruments = True
    templates = (
        "Which of the two sounds is louder?",
        "Is the first or the second sound played at a higher level?",
        "Which sound is louder, the first or the second?",
    )
    DIFF_DB = {"easy": (9.0, 14.0), "medium": (4.0, 7.0), "hard": (1.5, 3.0)}

    def make(self, rng, level):
        length = rng.uniform(0.6, 1.0)
        sound, source = held_sound(self.voices, rng, length)
        diff = rng.uniform(*self.DIFF_DB[level])
        louder = "first" if rng.random() < 0.5 else "second"
        levels = [0.0, -diff] if louder == "first" else [-diff, 0.0]
        segments = two_segments(rng, length)
        track = np.zeros(seconds(segments[1][1] + 0.3))
        for (start, _), db in zip(segments, levels, strict=True):
            place(track, sound, start, 10 ** (db / 20))
        return SynthClip(
            waveform=self.voices.finish(track, SNR_DB[level] + 5, rng),
            question=self.question(rng),
            choices=binary_choices(rng, FIRST_SECOND),
            answer=f"the {louder} sound",
            sub_category="level_comparison",
            meta=dict(louder=louder, levels_db=levels, segments_s=segments, source=source,
                      knobs=dict(snr_db=SNR_DB[level] + 5, level_difference_db=diff)),
        )


@register_family
class BrightnessCompare(TaskFamily):
    name = "brightness_compare"
    category = "sound"
    real_instruments = False  # no General MIDI control sets a timbre's brightness exactly
    templates = (
        "Which of the two sounds is brighter?",
        "Which tone has the brighter, sharper timbre: the first or the second?",
        "Is the first or the second sound brighter in timbre?",
    )
    TILT_DIFF = {"easy": 1.2, "medium": 0.7, "hard": 0.35}

    def make(self, rng, level):
        length = rng.uniform(0.7, 1.1)
        f0 = midi_to_hz(int(rng.integers(45, 65)))
        timbre = pick_timbre(rng, ("organ", "strings", "clarinet"))
        diff = self.TILT_DIFF[level]
        brighter = "first" if rng.random() < 0.5 else "second"
        values = [diff / 2, -diff / 2] if brighter == "first" else [-diff / 2, diff / 2]
        segments = two_segments(rng, length)
        track = np.zeros(seconds(segments[1][1] + 0.3))
        for (start, _), value in zip(segments, values, strict=True):
            tone = self.voices.tone(f0, length, timbre, rng, brightness=value)
            place(track, tone / rms(tone) * 0.15, start)  # equal RMS: only the timbre differs
        return SynthClip(
            waveform=self.voices.finish(track, SNR_DB[level] + 5, rng),
            question=self.question(rng),
            choices=binary_choices(rng, FIRST_SECOND),
            answer=f"the {brighter} sound",
            sub_category="timbre_comparison",
            meta=dict(brighter=brighter, brightness=values, segments_s=segments, f0_hz=f0,
                      timbre=timbre, knobs=dict(snr_db=SNR_DB[level] + 5, tilt_difference=diff)),
        )


@register_family
class SweepDirection(TaskFamily):
    name = "sweep_direction"
    category = "sound"
    real_instruments = True
    templates = (
        "Is the pitch of the sound rising or falling?",
        "Does this glide go up or down in pitch?",
        "Is the sweep rising or falling?",
    )
    SPAN = {"easy": (10, 14), "medium": (4, 6), "hard": (1, 2)}  # semitones

    def make(self, rng, level):
        direction = "rising" if rng.random() < 0.5 else "falling"
        span = rng.uniform(*self.SPAN[level]) * (1 if direction == "rising" else -1)
        start_midi = rng.uniform(55, 72)
        start, length = rng.uniform(0.2, 0.5), rng.uniform(0.8, 2.0)
        f0 = midi_to_hz(start_midi) * 2 ** (np.linspace(0, span, seconds(length)) / 12)
        # The truth (part of the item id) from scalar arithmetic, not from f0: numpy's array
        # power is SVML on AVX-512 CPUs and differs from libm in the last bit, which made
        # other ids on other machines. These equal f0[0], f0[-1] off AVX-512.
        start_hz, end_hz = midi_to_hz(start_midi), midi_to_hz(start_midi) * 2.0 ** (span / 12)
        track = np.zeros(seconds(start + length + 0.3))
        place(track, self.voices.tone(f0, length, pick_timbre(rng, SUSTAINED), rng), start)
        return SynthClip(
            waveform=self.voices.finish(track, SNR_DB[level], rng),
            question=self.question(rng),
            choices=binary_choices(rng, ("rising", "falling")),
            answer=direction,
            sub_category="pitch_contour",
            meta=dict(direction=direction, start_hz=start_hz, end_hz=end_hz,
                      start_s=start, end_s=start + length,
                      knobs=dict(snr_db=SNR_DB[level], span_semitones=abs(span))),
        )


@register_family
class GapPosition(TaskFamily):
    name = "gap_position"
    category = "sound"
    real_instruments = True
    templates = (
        "At what time does the sound briefly stop?",
        "When does the short silence in the sound begin?",
        "At about which second is there a gap in the sound?",
    )
    GAP_S = {"easy": 0.4, "medium": 0.25, "hard": 0.12}
    STEP_S = {"easy": 0.8, "medium": 0.6, "hard": 0.4}

    def make(self, rng, level):
        total = rng.uniform(3.6, 5.5)
        sound_start, gap_len = rng.uniform(0.1, 0.3), self.GAP_S[level]
        sound_end = total - rng.uniform(0.1, 0.3)
        gap_start = round(float(rng.uniform(sound_start + 0.4, sound_end - gap_len - 0.4)), 1)
        sound, source = held_sound(self.voices, rng, sound_end - sound_start)
        cut_from, cut_to = seconds(gap_start - sound_start), seconds(gap_start + gap_len - sound_start)
        ramp = seconds(0.01)
        sound[cut_from - ramp:cut_from] *= np.linspace(1, 0, ramp)
        sound[cut_from:cut_to] = 0.0
        sound[cut_to:cut_to + ramp] *= np.linspace(0, 1, ramp)
        track = np.zeros(seconds(total))
        place(track, sound, sound_start)
        step = self.STEP_S[level]
        values = numeric_distractors(rng, gap_start, step, 0.0, total - gap_len, k=6)
        answer = f"{gap_start:.1f} s"
        return SynthClip(
            waveform=self.voices.finish(track, SNR_DB[level] + 10, rng),
            question=self.question(rng),
            choices=shuffled_choices(rng, answer, [f"{v:.1f} s" for v in values]),
            answer=answer,
            sub_category="temporal_localisation",
            meta=dict(gap_start_s=gap_start, gap_end_s=gap_start + gap_len, sound_start_s=sound_start,
                      sound_end_s=sound_end, source=source,
                      knobs=dict(snr_db=SNR_DB[level] + 10, gap_s=gap_len, choice_step_s=step)),
        )
