"""The transcribe tool runs whisper only where its VAD finds speech and takes the language
from the config; the words and timings stay those of the plain faster-whisper call it
made before (language detected, VAD inside whisper)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from tool_signals import SR, tone

import audiorouter.tools as tools
from audiorouter.config import ConfigError, ToolsConfig
from audiorouter.data.audio_io import decode_audio
from audiorouter.data.synth import generate_family_items, get_family
from audiorouter.tools.asr import NO_SPEECH_PROB, NO_WORDS, TranscribeTool, process_cpus
from audiorouter.tools.inputs import ClipLimits

pytestmark = pytest.mark.skipif(TranscribeTool.unavailable_reason() is not None, reason="whisper weights missing")
needs_speech = pytest.mark.skipif(get_family("word_count").unavailable_reason() is not None,
                                  reason="espeak-ng missing: no speech items")


def words_before(tool: TranscribeTool, audio: np.ndarray) -> tuple[str, list]:
    """What the tool's call gave before whisper was gated: detect the language, VAD inside."""
    segments, _ = tool._load().transcribe(audio, beam_size=1, temperature=0.0, word_timestamps=True,
                                          vad_filter=True, condition_on_previous_text=False)
    kept = [s for s in segments if s.no_speech_prob < NO_SPEECH_PROB and s.text.strip()]
    return (" ".join(s.text.strip() for s in kept).strip(),
            [(w.word.strip(), round(w.start, 4), round(w.end, 4)) for s in kept for w in (s.words or [])])


def words_of(result) -> tuple[str, list]:
    return result.data["text"], [(w["word"], round(w["start_s"], 4), round(w["end_s"], 4)) for w in result.data["words"]]


@needs_speech
def test_speech_items_keep_their_words_and_timings():
    tool = tools.get_tool("transcribe")
    for item in generate_family_items("word_count", 3, seed=0):
        audio, _ = decode_audio(item.audio)
        audio = np.ascontiguousarray(audio, dtype=np.float32)
        result = tool.run(audio, SR)
        assert result.ok, result.error
        assert result.data["speech_found"] and result.data["text"], item.id
        assert words_of(result) == words_before(tool, audio), item.id


@needs_speech
def test_a_given_language_replaces_detection():
    audio, _ = decode_audio(generate_family_items("word_count", 1, seed=0)[0].audio)
    result = tools.get_tool("transcribe").run(audio, SR, ClipLimits(speech_language="en"))
    assert result.ok and result.data["language_given"] and result.data["language_probability"] == 1.0
    assert result.summary.startswith('speech (en) "') and result.version == f"{TranscribeTool.version}-en"


def test_a_clip_without_speech_skips_whisper(monkeypatch):
    tool = tools.get_tool("transcribe")
    before = words_before(tool, tone(seconds=3.0))

    def no_whisper():
        raise AssertionError("whisper must not run on a clip without speech")

    monkeypatch.setattr(tool, "_load", no_whisper)
    result = tool.run(tone(seconds=3.0), SR)
    assert result.ok, result.error
    assert result.summary == NO_WORDS and result.data["speech_found"] is False
    assert before == ("", [])  # what whisper said of it before: nothing


def test_the_language_names_the_cached_version_and_bad_codes_are_refused():
    assert TranscribeTool.version_for(ClipLimits()) == TranscribeTool.version
    assert TranscribeTool.version_for(ClipLimits(speech_language="en")) == f"{TranscribeTool.version}-en"
    noise = np.random.default_rng(0).standard_normal(2 * SR).astype(np.float32) * 0.1
    result = tools.get_tool("transcribe").run(noise, SR, ClipLimits(speech_language="zz"))
    assert not result.ok and "'zz' is not a language whisper knows" in result.error
    assert result.version == f"{TranscribeTool.version}-zz"
    with pytest.raises(ConfigError, match="speech_language must be a language code"):
        ToolsConfig(speech_language="English").validate()
    assert ClipLimits.from_config(ToolsConfig(speech_language="en")).speech_language == "en"


def test_threads_follow_the_process_cpu_share(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # what Ray sets for an actor with num_cpus=1
    assert process_cpus() == 1
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert process_cpus() == len(os.sched_getaffinity(0))


EXIT_SCRIPT = """
import atexit, os
from audiorouter.tools import base

def threads():
    return len(os.listdir("/proc/self/task"))

atexit.register(lambda: print("at exit:", len(base._INSTANCES), threads()))  # runs after close_tools (LIFO)
tool = base.get_tool("transcribe")
tool._load()
print("loaded:", threads())
tool.close()
print("closed:", threads())
tool._load()  # loaded again, then left for the exit to close
print("reloaded:", threads())
"""


def test_whisper_is_closed_and_its_threads_joined_before_the_interpreter_exits():
    """A CTranslate2 model left to interpreter finalisation keeps its worker threads alive
    while the process's destructors run (a known crash and hang at exit); get_tool's
    instances are closed by an atexit hook, so the threads are joined first."""
    done = subprocess.run([sys.executable, "-c", EXIT_SCRIPT], capture_output=True, text=True, timeout=300,
                          env=os.environ | {"HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    counts = dict(line.split(":", 1) for line in done.stdout.splitlines() if ":" in line)
    loaded, closed, reloaded = (int(counts[k]) for k in ("loaded", "closed", "reloaded"))
    instances, at_exit = (int(n) for n in counts["at exit"].split())
    assert closed < loaded and reloaded > closed  # close joins whisper's threads; the next use loads again
    assert instances == 0 and at_exit < reloaded
