"""Music families: note name, interval, note count, tempo, chord quality.

Ground truth in ``meta`` (besides the difficulty knobs under ``meta["knobs"]``):
note_name  midi, f0_hz, note, start_s, end_s, timbre
interval   midi_first, midi_second, semitones (signed), direction, segments_s
note_count count, onsets_s, midis, timbre
tempo      bpm, beat_times_s
chord      quality, root_midi, midis, inversion, start_s, end_s
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
    TIMBRES,
    midi_to_hz,
    note_name,
    place,
    seconds,
)

SNR_DB = {"easy": 30.0, "medium": 20.0, "hard": 10.0}
SUSTAINED = ("organ", "clarinet", "strings", "flute")
INTERVAL_NAMES = {
    1: "minor second", 2: "major second", 3: "minor third", 4: "major third",
    5: "perfect fourth", 6: "tritone", 7: "perfect fifth", 8: "minor sixth",
    9: "major sixth", 10: "minor seventh", 11: "major seventh", 12: "octave",
}


def interval_label(semitones: int) -> str:
    return f"{INTERVAL_NAMES[semitones]} ({semitones} semitone{'s' if semitones > 1 else ''})"


def pick_timbre(rng: np.random.Generator, options: tuple[str, ...] = tuple(TIMBRES)) -> str:
    return str(rng.choice(options))


@register_family
class NoteName(TaskFamily):
    name = "note_name"
    category = "music"
    real_instruments = True
    templates = (
        "Which note is being played?",
        "What is the name of the sustained note in this clip?",
        "Identify the pitch of the held tone.",
        "Which musical note does the instrument hold?",
        "Name the note you hear (scientific pitch notation).",
    )
    # Distractor offsets in semitones: the harder the level, the closer the confusions.
    OFFSETS = {"easy": (3, 4, 5, 7), "medium": (2, 12, 3, 5), "hard": (1, 12, 2, 11)}

    def make(self, rng, level):
        midi = int(rng.integers(48, 80))
        timbre = pick_timbre(rng)
        start, length = rng.uniform(0.2, 0.5), rng.uniform(1.2, 2.5)
        track = np.zeros(seconds(start + length + 0.3))
        place(track, self.voices.tone(midi_to_hz(midi), length, timbre, rng), start)
        offsets = [int(o * rng.choice((-1, 1))) for o in self.OFFSETS[level]]
        distractors = [note_name(midi + o) for o in offsets if 24 <= midi + o <= 107]
        answer = note_name(midi)
        return SynthClip(
            waveform=self.voices.finish(track, SNR_DB[level], rng),
            question=self.question(rng),
            choices=shuffled_choices(rng, answer, distractors),
            answer=answer,
            sub_category="pitch_naming",
            meta=dict(midi=midi, f0_hz=midi_to_hz(midi), note=answer, start_s=start,
                      end_s=start + length, timbre=timbre,
                      knobs=dict(snr_db=SNR_DB[level], distractor_offsets=offsets)),
        )


@register_family
class Interval(TaskFamily):
    name = "interval"
    category = "music"
    real_instruments = True
    templates = ()
    DIRECTION_TEMPLATES = (
        "Is the second note higher (ascending) or lower (descending) than the first?",
        "Does the melody move up or down between its two notes?",
        "Is the interval between the two notes ascending or descending?",
    )
    SIZE_TEMPLATES = (
        "What interval separates the two notes?",
        "Name the musical interval between the first and the second note.",
        "How far apart are the two notes, as an interval?",
    )
    DIRECTION_SIZES = {"easy": (7, 12), "medium": (3, 5), "hard": (1, 2)}

    def make(self, rng, level):
        kind = "direction" if rng.random() < 0.5 else "size"
        low, high = self.DIRECTION_SIZES[level] if kind == "direction" else (1, 12)
        size = int(rng.integers(low, high + 1))
        direction = "ascending" if rng.random() < 0.5 else "descending"
        first = int(rng.integers(52, 72))
        second = first + size if direction == "ascending" else first - size
        timbre = pick_timbre(rng)
        start, length, gap = rng.uniform(0.2, 0.4), rng.uniform(0.5, 0.9), rng.uniform(0.05, 0.2)
        track = np.zeros(seconds(start + 2 * length + gap + 0.3))
        place(track, self.voices.tone(midi_to_hz(first), length, timbre, rng), start)
        place(track, self.voices.tone(midi_to_hz(second), length, timbre, rng), start + length + gap)
        if kind == "direction":
            choices, answer = binary_choices(rng, ("ascending", "descending")), direction
            templates = self.DIRECTION_TEMPLATES
        else:
            step = {"easy": 3, "medium": 2, "hard": 1}[level]
            near = numeric_distractors(rng, size, step, 1, 12)
            answer = interval_label(size)
            choices = shuffled_choices(rng, answer, [interval_label(int(s)) for s in near])
            templates = self.SIZE_TEMPLATES
        segments = [[start, start + length], [start + length + gap, start + 2 * length + gap]]
        return SynthClip(
            waveform=self.voices.finish(track, SNR_DB[level], rng),
            question=str(rng.choice(templates)),
            choices=choices,
            answer=answer,
            sub_category=kind,
            meta=dict(midi_first=first, midi_second=second, semitones=second - first,
                      direction=direction, segments_s=segments, timbre=timbre,
                      knobs=dict(snr_db=SNR_DB[level], interval_size=size)),
        )


@register_family
class NoteCount(TaskFamily):
    name = "note_count"
    category = "music"
    real_instruments = True
    templates = (
        "How many notes are played?",
        "Count the notes in this melody.",
        "How many separate notes does the instrument play?",
        "How many note onsets does this phrase contain?",
    )
    SPACING_S = {"easy": (0.45, 0.6), "medium": (0.28, 0.4), "hard": (0.17, 0.25)}

    def make(self, rng, level):
        count = int(rng.integers(2, 9))
        ioi = rng.uniform(*self.SPACING_S[level])
        timbre = pick_timbre(rng, ("piano", "pluck", "organ", "clarinet"))
        scale = np.array([0, 2, 4, 5, 7, 9, 11, 12])
        base = int(rng.integers(55, 70))
        midis = [int(base + rng.choice(scale)) for _ in range(count)]
        start = rng.uniform(0.2, 0.5)
        onsets = [start + i * ioi for i in range(count)]
        track = np.zeros(seconds(onsets[-1] + ioi + 0.4))
        for onset, midi in zip(onsets, midis, strict=True):
            place(track, self.voices.tone(midi_to_hz(midi), ioi * 0.75, timbre, rng), onset)
        distractors = [str(int(c)) for c in numeric_distractors(rng, count, 1, 1, 10)]
        return SynthClip(
            waveform=self.voices.finish(track, SNR_DB[level] + 5, rng),
            question=self.question(rng),
            choices=shuffled_choices(rng, str(count), distractors),
            answer=str(count),
            sub_category="counting",
            meta=dict(count=count, onsets_s=onsets, midis=midis, timbre=timbre,
                      knobs=dict(snr_db=SNR_DB[level] + 5, ioi_s=ioi)),
        )


@register_family
class Tempo(TaskFamily):
    name = "tempo"
    category = "music"
    real_instruments = True
    templates = (
        "What is the tempo of this rhythm?",
        "At roughly how many beats per minute is this pattern played?",
        "Estimate the tempo in BPM.",
        "How fast is the beat, in beats per minute?",
    )
    SPACING = {"easy": 0.25, "medium": 0.12, "hard": 0.06}  # relative gap between choices

    def make(self, rng, level):
        bpm = int(rng.integers(60, 181))
        period = 60.0 / bpm
        beats = max(8, int(np.ceil(6.0 / period)))
        start = rng.uniform(0.1, 0.3)
        beat_times = [start + i * period for i in range(beats)]
        track = np.zeros(seconds(beat_times[-1] + period))
        accent, other = rng.choice(["kick", "woodblock"]), rng.choice(["click", "knock", "woodblock"])
        for i, t in enumerate(beat_times):
            place(track, self.voices.hit(accent if i % 4 == 0 else other, rng), t, 1.0 if i % 4 == 0 else 0.7)
        if level != "easy":  # off-beat ghost notes invite double-tempo mistakes
            for t in beat_times:
                place(track, self.voices.hit("click", rng), t + period / 2, 0.25)
        spacing = self.SPACING[level]
        distractors = [
            f"{int(round(bpm * (1 + spacing) ** m))} BPM"
            for m in numeric_distractors(rng, 0, 1, -3, 3, k=6)
        ]
        answer = f"{bpm} BPM"
        return SynthClip(
            waveform=self.voices.finish(track, SNR_DB[level], rng),
            question=self.question(rng),
            choices=shuffled_choices(rng, answer, distractors),
            answer=answer,
            sub_category="tempo_estimation",
            meta=dict(bpm=bpm, beat_times_s=beat_times,
                      knobs=dict(snr_db=SNR_DB[level], choice_spacing=spacing, ghost_notes=level != "easy")),
        )


@register_family
class ChordQuality(TaskFamily):
    name = "chord_quality"
    category = "music"
    real_instruments = True
    templates = (
        "Is this chord major or minor?",
        "What is the quality of the chord you hear: major or minor?",
        "Does the chord sound major or minor?",
    )
    INVERSIONS = {"easy": (0,), "medium": (0, 1), "hard": (1, 2)}

    def make(self, rng, level):
        quality = "major" if rng.random() < 0.5 else "minor"
        root = int(rng.integers(48, 68))
        inversion = int(rng.choice(self.INVERSIONS[level]))
        midis = [root, root + (4 if quality == "major" else 3), root + 7]
        for i in range(inversion):  # raise the lowest note by an octave
            midis[i] += 12
        timbre = pick_timbre(rng, ("piano", "organ", "strings", "pluck"))
        start, length = rng.uniform(0.2, 0.4), rng.uniform(1.5, 2.5)
        track = np.zeros(seconds(start + length + 0.3))
        for midi in midis:
            place(track, self.voices.tone(midi_to_hz(midi), length, timbre, rng), start, 0.6)
        return SynthClip(
            waveform=self.voices.finish(track, SNR_DB[level], rng),
            question=self.question(rng),
            choices=binary_choices(rng, ("major", "minor")),
            answer=quality,
            sub_category="triad_quality",
            meta=dict(quality=quality, root_midi=root, midis=sorted(midis), inversion=inversion,
                      start_s=start, end_s=start + length, timbre=timbre,
                      knobs=dict(snr_db=SNR_DB[level], inversion=inversion)),
        )
