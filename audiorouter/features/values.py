"""The number a choice states, in a canonical unit (``parse_choice_value``): a feature of
an item's choices that heads compare with what they hear, exact and cheap (never cached)."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class ChoiceValue:
    value: float  # in the canonical unit: seconds, Hz, MIDI number for a note name, ...
    unit: str  # "" for a bare number; "s", "hz", "bpm", "db", "lufs", "semitone", "note", "%", ...


_NUMBER = r"[-+]?\d+(?:\.\d+)?"
_UNITS = {  # spelling -> (canonical unit, factor)
    "s": ("s", 1.0), "sec": ("s", 1.0), "secs": ("s", 1.0), "second": ("s", 1.0), "seconds": ("s", 1.0),
    "ms": ("s", 1e-3), "min": ("s", 60.0), "minutes": ("s", 60.0),
    "hz": ("hz", 1.0), "khz": ("hz", 1e3), "bpm": ("bpm", 1.0), "db": ("db", 1.0), "dbfs": ("db", 1.0),
    "lufs": ("lufs", 1.0), "semitone": ("semitone", 1.0), "semitones": ("semitone", 1.0),
    "cents": ("semitone", 0.01), "%": ("%", 1.0),
}
_NOTE = re.compile(r"^\s*([A-Ga-g])\s*([#♯b♭]?)\s*(-?\d)\s*$")
_WHOLE = re.compile(rf"^\s*({_NUMBER})\s*([A-Za-z%]+)?\s*$")
_INSIDE = re.compile(rf"({_NUMBER})\s*({'|'.join(sorted(map(re.escape, _UNITS), key=len, reverse=True))})\b",
                     re.IGNORECASE)
_PITCH_CLASS = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}


def parse_choice_value(text: str) -> ChoiceValue | None:
    """The number a choice states, in a canonical unit, or None.

    * a note name in scientific pitch notation -> its MIDI number, unit "note"
      ("G#4" -> 68, "Bb3" -> 58, "C-1" -> 0);
    * the whole text a number with an optional unit -> the number, the unit canonical
      ("65 BPM" -> 65 bpm, "250 ms" -> 0.25 s, "1.5 kHz" -> 1500 hz, "-14 LUFS", "3" -> 3 "");
      an unknown unit word is kept lower-cased ("3 knocks" -> 3 "knocks");
    * else the first number followed by a known unit anywhere in the text
      ("perfect fifth (7 semitones)" -> 7 semitone);
    * else None ("the first sound", "major", "three").
    """
    text = text.replace("−", "-")
    note = _NOTE.match(text)
    if note:
        letter, accidental, octave = note.groups()
        shift = {"#": 1, "♯": 1, "b": -1, "♭": -1}.get(accidental, 0)
        return ChoiceValue(float(12 * (int(octave) + 1) + _PITCH_CLASS[letter.lower()] + shift), "note")
    whole = _WHOLE.match(text)
    if whole:
        number, unit = float(whole.group(1)), (whole.group(2) or "").lower()
        canonical, factor = _UNITS.get(unit, (unit, 1.0))
        return ChoiceValue(number * factor, canonical)
    inside = _INSIDE.search(text)
    if inside:
        canonical, factor = _UNITS[inside.group(2).lower()]
        return ChoiceValue(float(inside.group(1)) * factor, canonical)
    return None
