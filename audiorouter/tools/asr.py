"""Speech recognition with word timings: faster-whisper with the packaged whisper-base
weights (see ``models.whisper_base_dir``), offline. Optional: "all" includes it only
where the weights are installed.

Whisper runs only where it can pay. faster-whisper's bundled silero VAD looks for speech
first, with the options ``transcribe(vad_filter=True)`` uses; a clip where it finds none is
answered "no words recognised" without running whisper (``data["speech_found"]`` is
False). That is the answer whisper gave such clips before, after a language-detection
pass (a full encoder pass, about as costly as transcribing a short clip) over an empty
input. Where there is speech, whisper transcribes with ``vad_filter=True`` as before, so
the words and timings are unchanged; ``ClipLimits.speech_language`` (config
``tools.speech_language``), when set, replaces the detection pass, and results are cached
under a version naming it. Decoding is greedy at one temperature, so a clip's cost is
bounded; the model is loaded once per process, with as many threads as the process has
CPUs (Ray's ``OMP_NUM_THREADS`` for an actor, else its CPU affinity), never more, so
several tool processes on a small machine do not fight over cores."""

from __future__ import annotations

import os
import threading

import numpy as np

from audiorouter.tools.base import Tool, register_tool
from audiorouter.tools.inputs import ClipLimits
from audiorouter.tools.models import whisper_base_dir, whisper_parts

MAX_SUMMARY_CHARS = 240
NO_SPEECH_PROB = 0.6  # whisper's own "this segment is not speech" probability
NO_WORDS = "no words recognised"


def _device() -> tuple[str, str]:
    try:
        import ctranslate2

        if ctranslate2.get_cuda_device_count() > 0:
            return "cuda", "float16"
    except Exception:  # no CUDA runtime: CPU it is
        pass
    return "cpu", "int8"


def process_cpus() -> int:
    """CPUs this process may use: Ray's OMP_NUM_THREADS for an actor's share, else its affinity."""
    try:
        share = int(os.environ.get("OMP_NUM_THREADS", "0"))
    except ValueError:
        share = 0
    if share > 0:
        return share
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no affinity on this platform
        return max(1, os.cpu_count() or 1)


def _check_language(code: str) -> None:
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    if code not in _LANGUAGE_CODES:
        raise ValueError(f"tools.speech_language {code!r} is not a language whisper knows")


@register_tool
class TranscribeTool(Tool):
    name = "transcribe"
    version = "2"
    description = "speech recognition (whisper-base): the words spoken, with word start and end times"
    uses_gpu = True
    optional = True

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._model = None

    @classmethod
    def unavailable_reason(cls):
        try:
            import faster_whisper  # noqa: F401
        except ImportError:
            return "faster-whisper is not installed"
        if whisper_parts() is None:
            return "the packaged whisper-base weights are not installed"
        return None

    @classmethod
    def version_for(cls, limits: ClipLimits) -> str:
        return f"{cls.version}-{limits.speech_language}" if limits.speech_language else cls.version

    def _load(self):
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the hub
            from faster_whisper import WhisperModel

            device, compute_type = _device()
            self._model = WhisperModel(str(whisper_base_dir()), device=device, compute_type=compute_type,
                                       cpu_threads=process_cpus(), local_files_only=True)
        return self._model

    def close(self):
        with self._lock:
            if self._model is not None:
                self._model.model = None  # the CTranslate2 Whisper: its destructor joins its worker threads
            self._model = None

    def analyse(self, waveform, sample_rate):
        return self.analyse_given(waveform, sample_rate, ClipLimits())

    def analyse_given(self, waveform, sample_rate, limits):
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        language = limits.speech_language or None
        if language:
            _check_language(language)
        audio = np.ascontiguousarray(waveform, dtype=np.float32)
        if not get_speech_timestamps(audio, VadOptions(), sampling_rate=sample_rate):
            return NO_WORDS, {"text": "", "speech_found": False, "words": [], "segments": []}
        with self._lock:
            model = self._load()
            segments, info = model.transcribe(  # greedy, one temperature: bounded time
                audio, language=language, beam_size=1, temperature=0.0,
                word_timestamps=True, vad_filter=True, condition_on_previous_text=False,
            )
            segments = [s for s in segments if s.no_speech_prob < NO_SPEECH_PROB and s.text.strip()]
        words = [
            {"word": w.word.strip(), "start_s": float(w.start), "end_s": float(w.end), "probability": float(w.probability)}
            for s in segments for w in (s.words or [])
        ]
        text = " ".join(s.text.strip() for s in segments).strip()
        data = {"text": text, "speech_found": True, "language": info.language,
                "language_probability": float(info.language_probability), "language_given": bool(language),
                "words": words, "segments": [{"start_s": s.start, "end_s": s.end, "text": s.text.strip()} for s in segments]}
        if not text:
            return NO_WORDS, data
        shown = text if len(text) <= MAX_SUMMARY_CHARS else text[: MAX_SUMMARY_CHARS - 3].rstrip() + "..."
        span = f"{words[0]['start_s']:.2f}-{words[-1]['end_s']:.2f} s" if words else ""
        return f'speech ({info.language}) "{shown}" {span}'.strip(), data
