"""Reading the rendered evidence block, line by line, as text.

Each ``- tool: summary`` line may offer one value for the quantity asked: the first
match of that kind's patterns in the line. The patterns are loose on purpose, the way
a language model skims: any "N Hz" can be read as a pitch, any "N <things>" as a
count (and the words of a quoted transcript when words are counted), any "X-est: the first/second sound" as the answer to a comparison, any time span
"a-b s" as a duration (b - a) or a moment (a). ``ERROR`` lines and the truncation
marker offer nothing.
"""

from __future__ import annotations

import math
import re

from audiorouter.reasoner.reference.questions import NUMBER, Question, note_to_midi

LINE_RE = re.compile(r"^- ([\w.-]+): (.*)$")
SPAN_RE = re.compile(NUMBER + r"\s*-\s*" + NUMBER + r"\s*s\b")
HZ_RE = re.compile(NUMBER + r"\s*Hz\b")
COUNT_NOUNS = "events|onsets|notes|stable notes|segments|beats|words|hits|sounds"


def evidence_lines(evidence_text: str) -> list[tuple[str, str]]:
    """``(tool, summary)`` for every readable line (errors and markers skipped)."""
    lines = []
    for raw in evidence_text.splitlines():
        match = LINE_RE.match(raw.strip())
        if match and not match.group(2).startswith("ERROR:"):
            lines.append((match.group(1), match.group(2)))
    return lines


def _first_float(pattern: str, text: str) -> float | None:
    match = re.search(pattern, text, re.IGNORECASE)
    return float(match.group(1)) if match else None


def _pitch(text: str) -> float | None:
    midi = note_to_midi(text)
    if midi is not None:
        return midi
    hz = HZ_RE.search(text)
    return 69 + 12 * math.log2(float(hz.group(1)) / 440.0) if hz and float(hz.group(1)) > 0 else None


def _step(text: str) -> float | None:
    """A signed step in semitones: listed steps, a glide, or two note names."""
    step = _first_float(r"steps?\s+([+-]?\d+(?:\.\d+)?)", text)
    if step is not None:
        return step
    glide = re.search(r"\b(rising|falling)\s+" + NUMBER + r"\s*semitones", text)
    if glide:
        return float(glide.group(2)) * (1 if glide.group(1) == "rising" else -1)
    notes = [note_to_midi(m.group(0)) for m in re.finditer(r"\b[A-G]#?-?\d\b", text)]
    return notes[1] - notes[0] if len(notes) >= 2 else None


def _direction_word(text: str, up: str, down: str) -> float | None:
    match = re.search(rf"\b({up}|{down})\b", text, re.IGNORECASE)
    if match:
        return 1.0 if match.group(1).lower() == up else -1.0
    hz = re.search(NUMBER + r"\s*to\s*" + NUMBER + r"\s*Hz", text) if up == "rising" else None
    return (1.0 if float(hz.group(2)) > float(hz.group(1)) else -1.0) if hz else None


def _superlative(text: str, preferred: str) -> float | None:
    match = re.search(rf"{preferred}:\s*(?:the\s+)?(first|second) sound", text) or re.search(
        r"\b\w+est:\s*(?:the\s+)?(first|second) sound", text
    )
    return (1.0 if match.group(1) == "first" else -1.0) if match else None


def _count(text: str, noun: str) -> float | None:
    transcript = re.search(r'"([^"]*)"', text)
    if noun.startswith("word") and transcript:  # counts the words of a quoted transcript
        return float(len(re.findall(r"[\w'-]+", transcript.group(1))))
    stem = re.escape(noun.rstrip("s")) if noun else "event"
    own = _first_float(rf"\b(\d+)\s+(?:[a-z-]+\s+)?{stem}", text)
    return own if own is not None else _first_float(rf"\b(\d+)\s+(?:{COUNT_NOUNS})\b", text)


def _duration(text: str) -> float | None:
    total = _first_float(NUMBER + r"\s*s\s+(?:total|sounding|of speech)", text) or _first_float(
        r"\(" + NUMBER + r"\s*s\s+total", text
    )
    if total is not None:
        return total
    span = SPAN_RE.search(text)
    return float(span.group(2)) - float(span.group(1)) if span else None


def _moment(text: str) -> float | None:
    gap = re.search(r"gaps?\s+" + SPAN_RE.pattern, text)
    span = gap or SPAN_RE.search(text)
    return float(span.group(1)) if span else None


def read_value(question: Question, summary: str) -> float | None:
    """The value one evidence line offers for ``question`` (None if it offers none)."""
    kind = question.kind
    if kind == "note":
        return _pitch(summary)
    if kind == "interval":
        step = _step(summary)
        return abs(step) if step is not None else None
    if kind == "direction":
        step = _step(summary)
        return math.copysign(1.0, step) if step else None
    if kind == "sweep":
        return _direction_word(summary, "rising", "falling")
    if kind == "chord":
        return _direction_word(summary, "major", "minor")
    if kind == "tempo":
        return _first_float(NUMBER + r"\s*BPM", summary)
    if kind == "count":
        return _count(summary, question.noun)
    if kind == "duration":
        return _duration(summary)
    if kind == "time":
        return _moment(summary)
    if kind == "louder":
        return _superlative(summary, "loudest")
    if kind == "brighter":
        return _superlative(summary, "brightest")
    return None
