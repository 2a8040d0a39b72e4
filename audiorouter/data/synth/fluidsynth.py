"""Notes rendered by FluidSynth from a General MIDI SoundFont, through its C library.

The real-instruments split plays the families' notes on sampled instruments instead of
the built-in harmonic tones. ``libfluidsynth`` (Debian: ``fluidsynth``) and the
``fluid-soundfont-gm`` SoundFont (FluidR3_GM.sf2) are system packages that ``make setup``
installs when it runs as root; ``unavailable_reason()`` says what is missing otherwise.
Only a handful of the library's functions are used, through ctypes: one synthesiser per
synthesiser per clip (FluidSynth's loader keeps the SoundFont, so a new one costs about
30 ms) with its own reverb and chorus off (the split adds a stated room of its own), and
one note or hit rendered at a time into float samples at the project's sample rate.
A synthesiser carries state from note to note (its voices' filters), so the same clip is
the same samples only from a fresh synthesiser: ``open_synth`` per clip, then ``close``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
from pathlib import Path

import numpy as np

from audiorouter.contracts import SAMPLE_RATE

SOUNDFONT_ENV = "AUDIOROUTER_SOUNDFONT"  # another .sf2 file instead of the Debian package's
SOUNDFONT_PATHS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/default-GM.sf2")
LIBRARY_NAMES = ("libfluidsynth.so.3", "libfluidsynth.so.2", "libfluidsynth.so")
DRUM_CHANNEL = 9  # General MIDI's percussion channel (10 counted from 1)
BLOCK = 160  # samples rendered between pitch-bend updates (10 ms)
# FluidSynth computes audio in blocks of this many samples and hands them out from a
# buffer: a note must start on a block boundary, or it begins with the last note's tail
ENGINE_BLOCK = 64


def soundfont_path() -> Path | None:
    chosen = os.environ.get(SOUNDFONT_ENV)
    candidates = (chosen,) if chosen else SOUNDFONT_PATHS
    return next((Path(p) for p in candidates if p and Path(p).is_file()), None)


def _load_library() -> ctypes.CDLL | None:
    names = [*LIBRARY_NAMES, ctypes.util.find_library("fluidsynth")]
    for name in filter(None, names):
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    return None


def unavailable_reason() -> str | None:
    """None when notes can be rendered here, else what is missing and how to get it."""
    if _load_library() is None:
        return "the FluidSynth library is missing (Debian: apt-get install fluidsynth; make setup does it as root)"
    if soundfont_path() is None:
        where = os.environ.get(SOUNDFONT_ENV) or " or ".join(SOUNDFONT_PATHS)
        return (f"no General MIDI SoundFont at {where} (Debian: apt-get install fluid-soundfont-gm; "
                f"or set {SOUNDFONT_ENV})")
    return None


class Synth:
    """One FluidSynth synthesiser with the SoundFont loaded; not thread-safe (one per process)."""

    def __init__(self, library: ctypes.CDLL, soundfont: Path) -> None:
        lib = self.lib = library
        lib.new_fluid_settings.restype = ctypes.c_void_p
        lib.new_fluid_synth.restype = ctypes.c_void_p
        lib.new_fluid_synth.argtypes = [ctypes.c_void_p]
        lib.fluid_settings_setnum.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_double]
        lib.fluid_settings_setint.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        lib.fluid_synth_sfload.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        for name, count in (("fluid_synth_program_select", 5), ("fluid_synth_noteon", 4),
                            ("fluid_synth_noteoff", 3), ("fluid_synth_pitch_bend", 3),
                            ("fluid_synth_pitch_wheel_sens", 3), ("fluid_synth_system_reset", 1)):
            getattr(lib, name).argtypes = [ctypes.c_void_p] + [ctypes.c_int] * (count - 1)
        floats = ctypes.POINTER(ctypes.c_float)
        lib.fluid_synth_write_float.argtypes = [ctypes.c_void_p, ctypes.c_int, floats, ctypes.c_int, ctypes.c_int,
                                                floats, ctypes.c_int, ctypes.c_int]
        for level in range(5):  # FluidSynth logs to stderr by default: errors surface as return codes
            lib.fluid_set_log_function(level, None, None)
        lib.delete_fluid_synth.argtypes = [ctypes.c_void_p]
        lib.delete_fluid_settings.argtypes = [ctypes.c_void_p]
        settings = self.settings = lib.new_fluid_settings()
        lib.fluid_settings_setnum(settings, b"synth.sample-rate", float(SAMPLE_RATE))
        lib.fluid_settings_setnum(settings, b"synth.gain", 0.5)
        lib.fluid_settings_setint(settings, b"synth.reverb.active", 0)
        lib.fluid_settings_setint(settings, b"synth.chorus.active", 0)
        self.synth = lib.new_fluid_synth(settings)
        self.font = lib.fluid_synth_sfload(self.synth, str(soundfont).encode(), 1)
        self.rendered = 0  # samples handed out so far (where we are in the engine's block)
        if not self.synth or self.font < 0:
            raise RuntimeError(f"FluidSynth could not load the SoundFont {soundfont}")

    def note(self, program: int, key: int, duration_s: float, bend_semitones: np.ndarray | None = None,
             velocity: int = 100, drum: bool = False) -> np.ndarray:
        """``duration_s`` of one key held (a drum hit: its first ``duration_s``), mono float32.
        ``bend_semitones``: a pitch offset per sample (glides), applied every 10 ms."""
        lib, synth = self.lib, self.synth
        channel = DRUM_CHANNEL if drum else 0
        lib.fluid_synth_system_reset(synth)  # no voice of the last note rings on
        drain = (-self.rendered) % ENGINE_BLOCK + ENGINE_BLOCK  # the rest of the old block, then one silent
        self._write(np.zeros(drain, np.float32), np.zeros(drain, np.float32), 0, drain)
        lib.fluid_synth_program_select(synth, channel, self.font, 128 if drum else 0, program)
        n = int(round(duration_s * SAMPLE_RATE))
        left, right = np.zeros(n, np.float32), np.zeros(n, np.float32)
        span = 0 if bend_semitones is None else int(np.ceil(np.max(np.abs(bend_semitones)))) + 1
        if span:
            lib.fluid_synth_pitch_wheel_sens(synth, channel, span)
        lib.fluid_synth_noteon(synth, channel, key, velocity)
        for start in range(0, n, BLOCK):
            count = min(BLOCK, n - start)
            if span:
                value = 8192 + int(round(float(bend_semitones[start]) / span * 8191))
                lib.fluid_synth_pitch_bend(synth, channel, max(0, min(16383, value)))
            self._write(left, right, start, count)
        lib.fluid_synth_noteoff(synth, channel, key)
        return (left + right) / 2

    def _write(self, left: np.ndarray, right: np.ndarray, start: int, count: int) -> None:
        pointer = ctypes.POINTER(ctypes.c_float)
        status = self.lib.fluid_synth_write_float(self.synth, count, left[start:].ctypes.data_as(pointer), 0, 1,
                                                  right[start:].ctypes.data_as(pointer), 0, 1)
        if status != 0:
            raise RuntimeError("FluidSynth failed to render samples")
        self.rendered += count

    def close(self) -> None:
        if self.synth:
            self.lib.delete_fluid_synth(self.synth)
            self.lib.delete_fluid_settings(self.settings)
            self.synth = None


@functools.cache
def _library() -> ctypes.CDLL:
    reason = unavailable_reason()
    if reason:
        raise RuntimeError(reason)
    return _load_library()


def open_synth() -> Synth:
    """A fresh synthesiser with the SoundFont loaded; ``close()`` it when the clip is done."""
    return Synth(_library(), soundfont_path())
