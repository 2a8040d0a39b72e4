"""What a family's sounds are played on: the built-in synthetic instruments, or a SoundFont.

A family asks its ``voices`` for every tone and hit and for the finished clip, so one
family's code (its truth, its question, its choices) makes both the in-distribution items
and the real-instruments split's. ``SYNTHETIC`` delegates to ``instruments`` and draws
from the item's random stream exactly as the families did before it existed (the same
seed gives the same item). ``SoundFontVoices`` (one per clip) plays the same notes on
General MIDI instruments of a sampled SoundFont through FluidSynth, cuts each note at the
duration the truth states (its release would outlast it), and finishes the clip in a
stated room: reverberation of ``ROOM["rt60_s"]`` s at ``ROOM["reverb_db"]`` dB against the
dry sound, then the family's own noise bed at its level's signal-to-noise ratio.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import fftconvolve

from audiorouter.data.synth.fluidsynth import Synth, open_synth, soundfont_path, unavailable_reason
from audiorouter.data.synth.instruments import (
    SR,
    finish,
    harmonic_tone,
    normalise_peak,
    percussive_hit,
    rms,
    seconds,
)

# General MIDI programs (0-based) for the built-in timbres, and drum keys for the hits
GM_PROGRAMS = {"piano": 0, "organ": 16, "clarinet": 71, "strings": 48, "pluck": 24, "flute": 73}
GM_DRUM_KEYS = {"kick": 36, "knock": 37, "clap": 39, "click": 42, "woodblock": 76}
BEEP_PROGRAM = 80  # square lead: a beep is an electronic tone
HIT_LENGTH_S = {"knock": 0.12, "clap": 0.15, "click": 0.05, "kick": 0.25, "woodblock": 0.1}
ROOM = {"rt60_s": 0.3, "reverb_db": -10.0}
CUT_S = 0.02  # the fade that ends a note where its truth says it ends


class Voices:
    """The built-in synthetic instruments (``instruments``)."""

    name = "synthetic"

    def tone(self, f0: float | np.ndarray, duration: float, timbre: str, rng: np.random.Generator,
             brightness: float = 0.0) -> np.ndarray:
        return harmonic_tone(f0, duration, timbre, rng, brightness)

    def hit(self, kind: str, rng: np.random.Generator) -> np.ndarray:
        return percussive_hit(kind, rng)

    def finish(self, track: np.ndarray, snr_db: float | None, rng: np.random.Generator) -> np.ndarray:
        return finish(track, snr_db, rng)

    def describe(self) -> dict | None:
        """What the item's ``meta`` records about how it was played (None: the default)."""
        return None


SYNTHETIC = Voices()


class SoundFontVoices(Voices):
    """General MIDI instruments of a SoundFont (``fluidsynth``), for one clip."""

    name = "soundfont"

    def __init__(self) -> None:
        self._synth: Synth | None = None

    @property
    def synth(self) -> Synth:
        if self._synth is None:
            self._synth = open_synth()  # a fresh one per clip: see fluidsynth's docstring
        return self._synth

    def tone(self, f0, duration, timbre, rng, brightness=0.0):
        if brightness:
            raise ValueError("a SoundFont instrument has no exact brightness control")
        midi = 69 + 12 * np.log2(np.asarray(f0, dtype=np.float64) / 440.0)
        key = int(round(float(midi.flat[0])))
        bend = None
        if midi.ndim or midi != key:  # glides and pitches between keys: the pitch wheel
            bend = np.broadcast_to(midi - key, (seconds(duration),))
        return self._cut(self.synth.note(GM_PROGRAMS[timbre], key, duration, bend))

    def hit(self, kind, rng):
        if kind == "beep":
            hz = rng.uniform(700, 1100)
            midi = 69 + 12 * np.log2(hz / 440.0)
            key = int(round(midi))
            return self._cut(self.synth.note(BEEP_PROGRAM, key, 0.12, np.full(seconds(0.12), midi - key)))
        return self._cut(self.synth.note(0, GM_DRUM_KEYS[kind], HIT_LENGTH_S[kind], drum=True))

    def finish(self, track, snr_db, rng):
        if self._synth is not None:
            self._synth.close()
            self._synth = None
        return finish(room(track, rng), snr_db, rng)

    def describe(self):
        return {"voices": "soundfont", "soundfont": soundfont_path().name, **ROOM}

    @staticmethod
    def _cut(note: np.ndarray) -> np.ndarray:
        fade = min(note.size, seconds(CUT_S))
        note[note.size - fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
        return normalise_peak(note)


def room(track: np.ndarray, rng: np.random.Generator, rt60_s: float = ROOM["rt60_s"],
         reverb_db: float = ROOM["reverb_db"]) -> np.ndarray:
    """``track`` plus its reverberation: an exponentially decaying noise response that falls
    60 dB in ``rt60_s``, mixed ``reverb_db`` below the dry sound's RMS; same length."""
    t = np.arange(seconds(rt60_s)) / SR
    response = rng.standard_normal(t.size) * 10 ** (-3.0 * t / rt60_s)
    wet = fftconvolve(track, response)[: track.size]
    if not np.any(wet):
        return track
    return track + wet * (rms(track) / rms(wet)) * 10 ** (reverb_db / 20)


VOICES = {"synthetic": lambda: SYNTHETIC, "soundfont": SoundFontVoices}


def voices_unavailable_reason(name: str) -> str | None:
    return unavailable_reason() if name == "soundfont" else None
