"""What a task family is, the family registry, and helpers every family shares.

A family turns a seeded random generator and a difficulty level into one clip with
its question, choices and exact ground truth. Adding a family is one subclass of
``TaskFamily`` plus ``@register_family``; ``get_family(name)`` is its registered instance,
``family_names()`` every name (the package's modules register the built-in ones).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from audiorouter.config import ConfigError
from audiorouter.data.synth.voices import SYNTHETIC, Voices
from audiorouter.registry import Registry

LEVELS = ("easy", "medium", "hard")


@dataclass
class SynthClip:
    """One generated question before it becomes a stored AudioQAItem."""

    waveform: np.ndarray
    question: str
    choices: list[str]
    answer: str
    sub_category: str
    meta: dict[str, Any] = field(default_factory=dict)  # exact truth + difficulty knobs


class TaskFamily:
    """Subclasses set the class attributes and implement ``make``."""

    name: ClassVar[str]
    category: ClassVar[str]  # "music", "sound" or "speech"
    templates: ClassVar[tuple[str, ...]]  # paraphrases; may use {placeholders}
    # whether its sounds can be played on a SoundFont's instruments (the real-instruments split)
    real_instruments: ClassVar[bool] = False
    voices: Voices = SYNTHETIC  # what ``make`` plays its tones and hits on

    def make(self, rng: np.random.Generator, level: str) -> SynthClip:
        raise NotImplementedError

    def unavailable_reason(self) -> str | None:
        """None when the family can be generated on this machine, else why not."""
        return None

    def question(self, rng: np.random.Generator, **values: Any) -> str:
        return str(rng.choice(self.templates)).format(**values)


def played_on(family: TaskFamily, voices: Voices) -> TaskFamily:
    """``family`` making its clips with ``voices`` (a copy; the registry's stays synthetic)."""
    if voices is SYNTHETIC:
        return family
    if not family.real_instruments:
        raise ValueError(f"task family {family.name!r} cannot be played on {voices.name} voices")
    played = copy.copy(family)
    played.voices = voices
    return played


FAMILIES: Registry[TaskFamily] = Registry("task family", error=ConfigError)  # name -> its one instance


def register_family(cls: type[TaskFamily]) -> type[TaskFamily]:
    """Class decorator: register one instance of ``cls`` by its ``name``."""
    FAMILIES.register(cls.name)(cls())
    return cls


def get_family(name: str) -> TaskFamily:
    return FAMILIES.get(name)


def family_names() -> list[str]:
    return FAMILIES.names()


def shuffled_choices(rng: np.random.Generator, answer: str, distractors: list[str], k: int = 4) -> list[str]:
    """``answer`` plus the first distinct distractors, ``k`` in all, in random order."""
    picked = [answer]
    for option in distractors:
        if option not in picked:
            picked.append(option)
        if len(picked) == k:
            break
    if len(picked) < k:
        raise ValueError(f"need {k} distinct choices, got {picked}")
    order = rng.permutation(k)
    return [picked[i] for i in order]


def binary_choices(rng: np.random.Generator, options: tuple[str, str]) -> list[str]:
    return list(options) if rng.random() < 0.5 else [options[1], options[0]]


def numeric_distractors(
    rng: np.random.Generator, value: float, step: float, low: float, high: float, k: int = 3, window: int = 3
) -> list[float]:
    """``k`` values on a grid of ``step`` around ``value``, inside [low, high].

    The first ``window`` (the distractors a four-choice question uses) are consecutive
    grid values with a uniformly drawn number of them below ``value``, so the truth's
    rank among the options is uniform wherever the bounds allow: a listener who picks
    the middle option learns nothing. The rest follow nearest first, as spares for
    options that print the same after rounding.
    """
    offsets = [m for m in range(-k - 2, k + 3) if m != 0 and low <= value + step * m <= high]
    below = sorted((m for m in offsets if m < 0), reverse=True)  # nearest first
    above = sorted(m for m in offsets if m > 0)
    fewest_below, most_below = max(0, window - len(above)), min(window, len(below))
    if fewest_below <= most_below:
        n_below = int(rng.integers(fewest_below, most_below + 1))
        first = below[:n_below] + above[: window - n_below]
    else:  # bounds too tight for a full window: take what there is
        first = below + above
    spares = sorted((m for m in offsets if m not in first), key=lambda m: (abs(m), rng.random()))
    return [value + step * m for m in (first + spares)[:k]]
