"""Speech recognition with word timings: faster-whisper with the packaged whisper-base
weights (see ``models.whisper_base_dir``), offline. Optional: "all" includes it only
where the weights are installed.

faster-whisper's own silero VAD (bundled with it) skips non-speech first, so tones and
noise cost little and do not make whisper hallucinate; decoding is greedy at one
temperature, so a clip's cost is bounded."""

from __future__ import annotations

import os
import threading

import numpy as np

from audiorouter.tools.base import Tool, register_tool
from audiorouter.tools.models import whisper_base_dir, whisper_parts

MAX_SUMMARY_CHARS = 240
NO_SPEECH_PROB = 0.6  # whisper's own "this segment is not speech" probability


def _device() -> tuple[str, str]:
    try:
        import ctranslate2

        if ctranslate2.get_cuda_device_count() > 0:
            return "cuda", "float16"
    except Exception:  # no CUDA runtime: CPU it is
        pass
    return "cpu", "int8"


@register_tool
class TranscribeTool(Tool):
    name = "transcribe"
    version = "1"
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

    def _load(self):
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the hub
            from faster_whisper import WhisperModel

            device, compute_type = _device()
            threads = max(1, min(4, os.cpu_count() or 1))
            self._model = WhisperModel(str(whisper_base_dir()), device=device, compute_type=compute_type,
                                       cpu_threads=threads, local_files_only=True)
        return self._model

    def analyse(self, waveform, sample_rate):
        with self._lock:
            model = self._load()
            segments, info = model.transcribe(  # greedy, one temperature: bounded time
                np.ascontiguousarray(waveform, dtype=np.float32), beam_size=1, temperature=0.0,
                word_timestamps=True, vad_filter=True, condition_on_previous_text=False,
            )
            segments = [s for s in segments if s.no_speech_prob < NO_SPEECH_PROB and s.text.strip()]
        words = [
            {"word": w.word.strip(), "start_s": float(w.start), "end_s": float(w.end), "probability": float(w.probability)}
            for s in segments for w in (s.words or [])
        ]
        text = " ".join(s.text.strip() for s in segments).strip()
        data = {"text": text, "language": info.language, "language_probability": float(info.language_probability),
                "words": words, "segments": [{"start_s": s.start, "end_s": s.end, "text": s.text.strip()} for s in segments]}
        if not text:
            return "no words recognised", data
        shown = text if len(text) <= MAX_SUMMARY_CHARS else text[: MAX_SUMMARY_CHARS - 3].rstrip() + "..."
        span = f"{words[0]['start_s']:.2f}-{words[-1]['end_s']:.2f} s" if words else ""
        return f'speech ({info.language}) "{shown}" {span}'.strip(), data
