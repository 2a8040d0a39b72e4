"""How each tool is judged against the perception suite's exact ground truth.

``FAMILY_TOOL[family]`` is the tool that measures what the family asks, and
``is_correct(family, result, meta)`` says whether its result got the item right:

=================== ========= =========================================================
family              tool      correct when
=================== ========= =========================================================
note_name           pitch     the median pitch's note name is the played note
interval            pitch     last minus first stable note = the interval (semitones)
sweep_direction     pitch     the contour direction is the glide direction
tempo               tempo     BPM within 4 % of the true tempo
note_count          onsets    the event count is exact
event_count         onsets    the event count is exact
loudness_compare    loudness  two sounds found, the louder one picked
brightness_compare  spectral  two sounds found, the brighter one picked
duration            segments  one segment, sounding time within 0.1 s
gap_position        segments  one gap, starting within 0.1 s of the truth
chord_quality       chords    the longest chord is the right root and quality
=================== ========= =========================================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import librosa

from audiorouter.contracts import ToolResult

ORDER = ("first", "second")


def _interval(r: ToolResult, m: dict) -> bool:
    notes = r.data.get("notes") or []
    if len(notes) < 2:
        return False
    return int(librosa.note_to_midi(notes[-1]["note"]) - librosa.note_to_midi(notes[0]["note"])) == m["semitones"]


def _pick(r: ToolResult, index_key: str, truth: str) -> bool:
    return len(r.data.get("segments") or []) == 2 and r.data.get(index_key) == ORDER.index(truth)


def _chord(r: ToolResult, m: dict) -> bool:
    chords = [c for c in r.data.get("chords") or [] if c["chord"].endswith(("major", "minor"))]
    if not chords:
        return False
    label = max(chords, key=lambda c: c["end_s"] - c["start_s"])["chord"]
    return label == f"{librosa.midi_to_note(m['root_midi'], octave=False, unicode=False)} {m['quality']}"


def _gap(r: ToolResult, m: dict) -> bool:
    gaps = r.data.get("gaps") or []
    return len(gaps) == 1 and abs(gaps[0]["start_s"] - m["gap_start_s"]) <= 0.1


CHECKS: dict[str, tuple[str, Callable[[ToolResult, dict], bool]]] = {
    "note_name": ("pitch", lambda r, m: r.data.get("median_note") == m["note"]),
    "interval": ("pitch", _interval),
    "sweep_direction": ("pitch", lambda r, m: (r.data.get("contour") or {}).get("direction") == m["direction"]),
    "tempo": ("tempo", lambda r, m: r.data.get("bpm") is not None and abs(r.data["bpm"] / m["bpm"] - 1) <= 0.04),
    "note_count": ("onsets", lambda r, m: r.data.get("count") == m["count"]),
    "event_count": ("onsets", lambda r, m: r.data.get("count") == m["count"]),
    "loudness_compare": ("loudness", lambda r, m: _pick(r, "loudest_index", m["louder"])),
    "brightness_compare": ("spectral", lambda r, m: _pick(r, "brightest_index", m["brighter"])),
    "duration": ("segments", lambda r, m: len(r.data.get("segments") or []) == 1
                 and abs(r.data["sounding_s"] - m["duration_s"]) <= 0.1),
    "gap_position": ("segments", _gap),
    "chord_quality": ("chords", _chord),
}
FAMILY_TOOL = {family: tool for family, (tool, _) in CHECKS.items()}
# The tool whose result answers each family's question (the reasoner's "matching
# evidence"); speech has no exact check above (recognition errors are the tool's).
MATCHING_TOOL = FAMILY_TOOL | {"word_count": "transcribe"}


def is_correct(family: str, result: ToolResult, meta: dict[str, Any]) -> bool:
    """Whether ``result`` (of ``FAMILY_TOOL[family]``) answers the item right."""
    return bool(result.ok and CHECKS[family][1](result, meta))
