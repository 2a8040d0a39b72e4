"""One check of requests and records, shared by ``serve``, the importers and the reasoner.

Whatever a caller hands the reasoner (an HTTP request, a benchmark record, a rollout)
passes the same functions here, so the server, the importers and the reasoner can never
disagree about what is answerable. Each check raises with a message that names the
item and the problem:

=====================  =======================================================
check                  rule
=====================  =======================================================
``check_question``     a string, non-empty after strip, at most MAX_TEXT_CHARS
``check_choices``      a list of MIN_CHOICES..MAX_CHOICES strings, each non-empty
                       after strip and at most MAX_TEXT_CHARS, no two equal after
                       case-folding and stripping
``check_answer``       when given (or required), exactly one of the choices
``check_audio``        a 1-D array, a sample rate in MIN..MAX_SAMPLE_RATE,
                       non-empty, every sample finite, at most ``max_duration_s``
``inside_root``        a record's audio path resolves (symlinks followed) inside its root
``loads_json``         JSON text nested at most MAX_JSON_DEPTH deep (checked by a scan
                       before parsing: Python's parser recurses, and 100,000 levels
                       end in RecursionError), then parsed
=====================  =======================================================

``ValidationError`` is raised for the question, choices, answer and paths;
``AudioError`` (a ``ValidationError``, defined here and re-exported by
``data.audio_io``) for the audio. The server answers the first with 400 and the second
with 422; the importers reject the record with the message as its reason; the reasoner
turns either into an error outcome (``bad request: ...`` / ``bad audio: ...``).
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

MIN_CHOICES = 2
MAX_CHOICES = 26  # the reasoner labels choices with the letters A-Z (reasoner.prompting.LETTERS)
MAX_TEXT_CHARS = 10_000  # a question or one choice; real benchmark questions are far shorter
MIN_SAMPLE_RATE = 1_000  # Hz; below this a "clip" is not audio, and resampling it is absurd
MAX_SAMPLE_RATE = 768_000  # Hz; the highest rate of common audio formats
MAX_JSON_DEPTH = 64  # lists and objects inside each other; real records nest 2-3 deep


class ValidationError(ValueError):
    """An item that cannot be answered; the message names the problem."""


class AudioError(ValidationError):
    """A clip that cannot be used; the message says why."""


# ------------------------------------------------------------------- question + choices


def check_question(question: Any) -> str:
    if not isinstance(question, str):
        raise ValidationError(f"the question is not a string (type {type(question).__name__})")
    if not question.strip():
        raise ValidationError(f"the question is empty ({question!r})")
    if len(question) > MAX_TEXT_CHARS:
        raise ValidationError(f"the question is {len(question)} characters long, over the limit of {MAX_TEXT_CHARS}")
    return question


def check_choices(choices: Any) -> list[str]:
    if not isinstance(choices, (list, tuple)):
        raise ValidationError(f"choices must be a list of strings, got type {type(choices).__name__}")
    if len(choices) < MIN_CHOICES:
        raise ValidationError(f"choices must hold at least {MIN_CHOICES} options, got {len(choices)}: {list(choices)!r}")
    if len(choices) > MAX_CHOICES:
        raise ValidationError(
            f"choices must hold at most {MAX_CHOICES} options (one letter A-Z each), got {len(choices)}")
    for i, choice in enumerate(choices):
        if not isinstance(choice, str):
            raise ValidationError(f"choices must be a list of strings: choice {i} ({choice!r}) is not a string "
                                  f"(type {type(choice).__name__})")
        if not choice.strip():
            raise ValidationError(f"choice {i} is empty ({choice!r})")
        if len(choice) > MAX_TEXT_CHARS:
            raise ValidationError(f"choice {i} is {len(choice)} characters long, over the limit of {MAX_TEXT_CHARS}")
    groups: dict[str, list[str]] = {}
    for choice in choices:
        groups.setdefault(choice.strip().casefold(), []).append(choice)
    clashes = [" and ".join(repr(c) for c in group) for group in groups.values() if len(group) > 1]
    if clashes:
        raise ValidationError(f"duplicate choice(s) {'; '.join(clashes)} "
                              "(choices must differ after ignoring case and surrounding spaces)")
    return list(choices)


def check_answer(answer: Any, choices: Sequence[str], required: bool = False) -> None:
    """``answer`` (None: not given) must be exactly one of ``choices``."""
    if answer is None and not required:
        return
    if answer not in choices:
        raise ValidationError(f"answer {answer!r} is not one of the choices {list(choices)!r}")


def check_qa(question: Any, choices: Any, answer: Any = None, answer_required: bool = False) -> None:
    """The text of an item: its question, its choices and (when given) its answer."""
    check_question(question)
    check_choices(choices)
    check_answer(answer, choices, answer_required)


# ------------------------------------------------------------------------------ audio


def check_sample_rate(sample_rate: Any) -> int:
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)):
        raise AudioError(f"the sample rate must be an integer, got {sample_rate!r}")
    if not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
        raise AudioError(
            f"sample rate {int(sample_rate)} Hz is outside the supported range {MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz")
    return int(sample_rate)


def check_waveform(waveform: np.ndarray, sample_rate: int, max_duration_s: float = math.inf) -> None:
    """Samples of any shape: non-empty, finite, at most ``max_duration_s`` long."""
    if waveform.size == 0:
        raise AudioError("audio has no samples")
    finite = np.isfinite(waveform)
    if not finite.all():
        raise AudioError(f"audio has {int(finite.size - np.count_nonzero(finite))} NaN/inf samples")
    duration = max(waveform.shape, default=1) / sample_rate
    if duration > max_duration_s:
        raise AudioError(f"duration {duration:.1f} s exceeds the limit of {max_duration_s:g} s")


def check_audio(waveform: Any, sample_rate: Any, max_duration_s: float = math.inf) -> None:
    """A mono clip as the reasoner receives it: 1-D samples at a supported rate."""
    if not isinstance(waveform, np.ndarray) or waveform.ndim != 1:
        shape = getattr(waveform, "shape", type(waveform).__name__)
        raise AudioError(f"the waveform must be a 1-D numpy array (mono samples), got {shape}")
    check_waveform(waveform, check_sample_rate(sample_rate), max_duration_s)


def check_request(question: Any, choices: Any, answer: Any, waveform: Any, sample_rate: Any) -> None:
    """Everything the reasoner needs of one request, text first (cheap), then audio."""
    check_qa(question, choices, answer)
    check_audio(waveform, sample_rate)


# ------------------------------------------------------------------------------ paths


def inside_root(root: str | Path, relative: str) -> Path:
    """``root / relative`` once it is known to resolve (symlinks followed) inside the
    resolved root; ValidationError naming the path otherwise. The path is returned as
    given, so later messages (a broken symlink, a directory) name what the record says.
    An absolute ``relative`` is accepted only when it points inside the root."""
    path = Path(root) / relative
    try:
        real_root, real = Path(root).resolve(), path.resolve()
    except (OSError, RuntimeError, ValueError) as exc:  # a symlink loop, a NUL byte
        raise ValidationError(f"audio path {relative!r} cannot be resolved: {exc}") from exc
    if not real.is_relative_to(real_root):
        raise ValidationError(f"audio path {relative!r} resolves to {str(real)!r}, outside the audio root {str(real_root)!r}")
    return path


# ------------------------------------------------------------------------------- JSON

# a JSON string (escapes included) or one structural character: strings are skipped whole
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},]', re.DOTALL)


def json_depth(text: str) -> int:
    """How deep lists and objects nest in JSON text, found by a scan (no recursion)."""
    depth = deepest = 0
    for match in _JSON_TOKENS.finditer(text):
        first = match.group()[0]
        if first in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif first in "]}":
            depth -= 1
    return deepest


def loads_json(text: str, what: str) -> Any:
    """``json.loads`` of text nested at most MAX_JSON_DEPTH deep; ValidationError naming
    ``what`` when deeper (json.JSONDecodeError for text that is not JSON)."""
    depth = json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise ValidationError(f"{what} is nested {depth} deep, over the limit of {MAX_JSON_DEPTH}")
    return json.loads(text)


def json_list_items(text: str) -> list[str] | None:
    """The texts of the elements of a JSON list, split by a scan without parsing them (so
    each can be parsed, or refused, on its own); None when the text is not one list."""
    stripped = text.strip()
    if not stripped.startswith("["):
        return None
    items: list[str] = []
    depth, start = 0, None
    for match in _JSON_TOKENS.finditer(stripped):
        first = match.group()[0]
        if first in "[{":
            depth += 1
            if depth == 1:
                start = match.end()
        elif first in "]}":
            depth -= 1
            if depth == 0:
                items.append(stripped[start:match.start()])
                return [item for item in items if item.strip()] if stripped[match.end():].strip() == "" else None
        elif first == "," and depth == 1:
            items.append(stripped[start:match.start()])
            start = match.end()
    return None


# ------------------------------------------------------------------------------ files

_NOT_REGULAR = (  # what a path is when it is not a regular file, for error messages
    (stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"),
)


def file_problem(path: str | Path, what: str) -> str | None:
    """Why ``path`` is not (a symlink to) a non-empty regular file, as a message naming
    ``what`` ("audio", "benchmark") and the path; None when it is one. Never opens the
    path: a named pipe would block, a device would never end."""
    try:
        own = os.lstat(path)
    except FileNotFoundError:
        return f"{what} file not found: {path}"
    except OSError as exc:
        return f"{what} path cannot be read: {path} ({exc.strerror})"
    try:
        target = os.stat(path)
    except FileNotFoundError:
        return f"{what} path is a broken symlink: {path} -> {os.readlink(path)}"
    except OSError as exc:  # a symlink loop, a permission problem
        return f"{what} path cannot be read: {path} ({exc.strerror})"
    if stat.S_ISDIR(target.st_mode):
        return f"{what} path is a directory: {path}"
    if not stat.S_ISREG(target.st_mode):
        kind = next((name for test, name in _NOT_REGULAR if test(target.st_mode)), "something else")
        via = " (via a symlink)" if stat.S_ISLNK(own.st_mode) else ""
        return f"{what} path is not a regular file ({kind}){via}: {path}"
    if target.st_size == 0:
        return f"{what} file is empty (0 bytes): {path}"
    return None
