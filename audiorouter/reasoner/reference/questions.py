"""What a question asks, read from its text and its choices (as a language model would).

``parse_question`` returns the quantity asked (``kind``), the value each choice stands
for (a number on the kind's scale, e.g. a MIDI number for a note name) and, for counts,
the noun being counted. Unrecognised questions have kind ``"unknown"``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
NOTE_RE = re.compile(r"\b([A-G])(#|b)?(-?\d)\b")
NUMBER = r"(-?\d+(?:\.\d+)?)"

# Kinds whose choices are numbers, the scale they are compared on, and how far (on that
# scale) evidence may be from a choice and still count as supporting it.
TOLERANCE = {
    "note": 1.0,  # semitones
    "interval": 1.0,  # semitones
    "tempo": 0.08,  # relative (log scale)
    "duration": 0.3,  # relative
    "time": 0.4,  # seconds
    "count": 1.0,  # items
}
RELATIVE_KINDS = {"tempo", "duration"}
BINARY_KINDS = {
    "direction": ("ascending", "descending"),
    "sweep": ("rising", "falling"),
    "chord": ("major", "minor"),
    "louder": ("the first sound", "the second sound"),
    "brighter": ("the first sound", "the second sound"),
}


@dataclass(frozen=True)
class Question:
    kind: str
    values: tuple[float, ...]  # per choice; binary kinds use +1 (first option) / -1
    noun: str = ""  # counts: what is counted ("notes", "words", "claps", ...)


def note_to_midi(text: str) -> float | None:
    match = NOTE_RE.search(text)
    if not match:
        return None
    letter, accidental, octave = match.groups()
    pitch = NOTE_NAMES.index(letter) + {"#": 1, "b": -1}.get(accidental or "", 0)
    return float(pitch + 12 * (int(octave) + 1))


def _all(pattern: str, choices: list[str]) -> list[float] | None:
    values = []
    for choice in choices:
        match = re.fullmatch(pattern, choice.strip(), flags=re.IGNORECASE)
        if not match:
            return None
        values.append(float(match.group(1)))
    return values


def _binary(choices: list[str], question: str) -> Question | None:
    lowered = [c.strip().lower() for c in choices]
    for kind, (first, second) in BINARY_KINDS.items():
        if sorted(lowered) == sorted([first, second]):
            if kind in ("louder", "brighter"):
                kind = "brighter" if re.search(r"bright|timbre|sharp", question, re.I) else "louder"
            return Question(kind, tuple(1.0 if c == first else -1.0 for c in lowered))
    return None


def counted_noun(question: str) -> str:
    match = re.search(r"(?:how many|count the)\s+(?:separate\s+|distinct\s+)?([a-z-]+)", question, re.I)
    noun = match.group(1).lower() if match else ""
    return "events" if noun in ("times", "") else noun


def parse_question(question: str, choices: list[str]) -> Question:
    """The kind of quantity asked and each choice's value on that kind's scale."""
    binary = _binary(choices, question)
    if binary:
        return binary
    midis = [note_to_midi(c) for c in choices]
    if all(m is not None and NOTE_RE.fullmatch(c.strip()) for m, c in zip(midis, choices, strict=True)):
        return Question("note", tuple(midis))
    semitones = _all(r".*\((\d+) semitones?\)", choices)
    if semitones:
        return Question("interval", tuple(semitones))
    bpm = _all(NUMBER + r"\s*bpm", choices)
    if bpm:
        return Question("tempo", tuple(bpm))
    seconds = _all(NUMBER + r"\s*s(?:ec(?:onds?)?)?", choices)
    if seconds:
        asks_time = re.search(r"\b(when|what time|which second|at about)\b", question, re.I)
        return Question("time" if asks_time else "duration", tuple(seconds))
    counts = _all(r"(\d+)", choices)
    if counts:
        return Question("count", tuple(counts), counted_noun(question))
    return Question("unknown", tuple(float(i) for i in range(len(choices))))


def nearest_choice(question: Question, value: float) -> int | None:
    """The choice ``value`` supports, or None when it is not near any choice."""
    if question.kind in BINARY_KINDS:
        return question.values.index(1.0 if value > 0 else -1.0)

    def distance(choice_value: float) -> float:
        if question.kind in RELATIVE_KINDS:
            return abs(math.log(max(value, 1e-6) / max(choice_value, 1e-6)))
        return abs(value - choice_value)

    distances = [distance(v) for v in question.values]
    best = min(range(len(distances)), key=distances.__getitem__)
    return best if distances[best] <= TOLERANCE.get(question.kind, 0.0) + 1e-9 else None
