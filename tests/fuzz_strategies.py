"""Hypothesis strategies for the fuzz tests: values from the documented schemas (requests,
benchmark records, clips) and mutations of them (types, sizes, nesting, encodings,
headers, containers).

The budget: ``FUZZ_EXAMPLES`` examples per property (``AUDIOROUTER_FUZZ_EXAMPLES``,
default 150, the same cases on every run); set the variable to fuzz longer, with a new
random draw each run (``AUDIOROUTER_FUZZ_EXAMPLES=5000 make test``, or pytest on the
fuzz tests alone).
"""

from __future__ import annotations

import io
import json
import os

import numpy as np
import soundfile as sf
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

_BUDGET = os.environ.get("AUDIOROUTER_FUZZ_EXAMPLES")
FUZZ_EXAMPLES = int(_BUDGET or 150)
FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=_BUDGET is None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# ----------------------------------------------------------------------------- JSON

json_leaves = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
               | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=40))
json_values = st.recursive(json_leaves, lambda inner: st.lists(inner, max_size=6)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=6), max_leaves=40)
deep_json = st.integers(1, 3000).flatmap(
    lambda depth: st.sampled_from(["[", '{"a":']).map(
        lambda opener: opener * depth + ("1" if opener == "[" else "1") + ("]" if opener == "[" else "}") * depth))
texts = (st.text(max_size=60) | st.sampled_from(["", "   ", "\x00", "é" * 3, "\u2028", "🎵 how many notes?"])
         | st.integers(9_990, 10_010).map(lambda n: "a" * n))  # around MAX_TEXT_CHARS
choices_values = (st.lists(texts, max_size=30) | json_values
                  | st.lists(st.sampled_from(["Yes", "yes", " YES ", "No"]), min_size=2, max_size=4))


def dumps(value) -> str:
    """JSON text of any generated value (NaN and infinity as Python writes them)."""
    return json.dumps(value)


# ---------------------------------------------------------------------------- audio


def _encode(samples: np.ndarray, rate: int, fmt: str, subtype: str) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


def _clip_pool() -> list[bytes]:
    rng = np.random.default_rng(0)
    pool = []
    for rate, channels, frames, fmt, subtype in [
        (16_000, 1, 8_000, "WAV", "PCM_16"), (44_100, 2, 20_000, "FLAC", "PCM_24"), (8_000, 1, 1, "WAV", "FLOAT"),
        (48_000, 6, 4_800, "WAV", "PCM_U8"), (22_050, 1, 11_025, "OGG", "VORBIS"), (32_000, 2, 16_000, "MP3", "MPEG_LAYER_III"),
        (16_000, 1, 100, "FLAC", "PCM_16"), (768_000, 1, 7_680, "WAV", "PCM_32"), (1_000, 1, 3, "WAV", "ULAW"),
    ]:
        samples = (rng.standard_normal((frames, channels)) * 0.2).astype(np.float32)
        pool.append(_encode(samples, rate, fmt, subtype))
    return pool


CLIPS = _clip_pool()


@st.composite
def mutated_clip(draw) -> bytes:
    """A valid clip, then cut, bit-flipped, or with its header's length fields rewritten."""
    data = bytearray(draw(st.sampled_from(CLIPS)))
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["cut", "flip", "header", "junk_tail", "zero_run"]))
        if not data:
            break
        if kind == "cut":
            del data[draw(st.integers(0, len(data) - 1)):]
        elif kind == "flip":
            at = draw(st.integers(0, len(data) - 1))
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "header":  # RIFF/data sizes, FLAC STREAMINFO and the like sit in the first 64 bytes
            at = draw(st.integers(0, min(len(data), 64) - 1))
            data[at:at + 4] = draw(st.binary(min_size=4, max_size=4))
        elif kind == "junk_tail":
            data += draw(st.binary(max_size=200))
        else:
            at = draw(st.integers(0, len(data) - 1))
            data[at:at + 32] = bytes(min(32, len(data) - at))
    return bytes(data)


audio_bytes = st.sampled_from(CLIPS) | mutated_clip() | st.binary(max_size=300) | st.just(b"")
