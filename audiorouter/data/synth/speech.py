"""Speech families, spoken by the espeak-ng synthesiser when it is installed
(``apt-get install espeak-ng``); without it they are skipped with a message.

Ground truth in ``meta`` (besides ``meta["knobs"]``):
word_count  count, words, text, rate_wpm
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from audiorouter.data.audio_io import decode_audio, to_mono_16k
from audiorouter.data.synth.base import (
    SynthClip,
    TaskFamily,
    numeric_distractors,
    register_family,
    shuffled_choices,
)
from audiorouter.data.synth.instruments import finish, place, seconds
from audiorouter.data.synth.music import SNR_DB

VOCABULARY = (
    "apple river green table window orange garden simple yellow paper music silver "
    "planet basket candle forest winter pocket rabbit doctor button hammer lemon "
    "monkey pencil rocket sister tiger violin water zebra bottle camera dragon"
).split()


def speak(text: str, rate_wpm: int, word_gap_10ms: int) -> np.ndarray:
    """16 kHz mono speech for ``text`` from espeak-ng (deterministic for a version)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "speech.wav"
        subprocess.run(
            ["espeak-ng", "-v", "en-us", "-s", str(rate_wpm), "-g", str(word_gap_10ms), "-w", str(path), text],
            check=True, capture_output=True, timeout=30,
        )
        wave, sr = decode_audio(path)
    return to_mono_16k(wave, sr)


@register_family
class WordCount(TaskFamily):
    name = "word_count"
    category = "speech"
    templates = (
        "How many words does the speaker say?",
        "Count the spoken words.",
        "How many words are spoken in this clip?",
    )
    RATE_WPM = {"easy": 130, "medium": 175, "hard": 230}
    WORD_GAP = {"easy": 12, "medium": 5, "hard": 0}  # extra pause between words, 10 ms units

    def unavailable_reason(self) -> str | None:
        if shutil.which("espeak-ng") is None:
            return "no speech synthesiser: espeak-ng is not on PATH (apt-get install espeak-ng)"
        return None

    def make(self, rng, level):
        count = int(rng.integers(2, 10))
        words = [str(w) for w in rng.choice(VOCABULARY, size=count, replace=False)]
        text = " ".join(words)
        speech = speak(text, self.RATE_WPM[level], self.WORD_GAP[level])
        start = rng.uniform(0.2, 0.5)
        track = np.zeros(seconds(start + speech.size / 16000 + 0.3))
        place(track, speech, start)
        distractors = [str(int(c)) for c in numeric_distractors(rng, count, 1, 1, 12)]
        return SynthClip(
            waveform=finish(track, SNR_DB[level] + 5, rng),
            question=self.question(rng),
            choices=shuffled_choices(rng, str(count), distractors),
            answer=str(count),
            sub_category="word_counting",
            meta=dict(count=count, words=words, text=text, rate_wpm=self.RATE_WPM[level],
                      start_s=start, knobs=dict(snr_db=SNR_DB[level] + 5, rate_wpm=self.RATE_WPM[level],
                                                word_gap_ms=10 * self.WORD_GAP[level])),
        )
