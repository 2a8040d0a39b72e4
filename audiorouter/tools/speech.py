"""Speech activity: where someone speaks, with silero-vad's packaged ONNX model
(loaded from the installed package, never downloaded).

torch (silero-vad's input type) is imported with the model, on the tool's first call:
every tool process imports every built-in tool's module, and importing torch there
cost each process about 2 s of start-up whether or not it ever ran this tool."""

from __future__ import annotations

import importlib.util
import threading

import numpy as np

from audiorouter.tools.base import Tool, register_tool
from audiorouter.tools.common import span_text

MAX_LISTED = 8


def _load_vad():
    """(torch, silero_vad, the model)."""
    import torch

    threads = torch.get_num_threads()
    import silero_vad  # its import sets torch to one thread for the whole process

    torch.set_num_threads(threads)
    return torch, silero_vad, silero_vad.load_silero_vad(onnx=True)


@register_tool
class SpeechTool(Tool):
    name = "speech"
    version = "1"
    description = "speech activity (silero-vad): speech segments with start and end times"

    def __init__(self) -> None:
        self._lock = threading.Lock()  # the ONNX wrapper keeps streaming state
        self._vad = None

    @classmethod
    def unavailable_reason(cls):
        # found, not imported: importing silero_vad sets torch to one thread for the whole
        # process, and every driver asks this when it resolves the tools
        if importlib.util.find_spec("silero_vad") is None:
            return "silero-vad is not installed"
        return None

    def close(self):
        with self._lock:
            self._vad = None  # the ONNX Runtime session and its thread pool

    def analyse(self, waveform, sample_rate):
        with self._lock:
            if self._vad is None:
                self._vad = _load_vad()
            torch, module, model = self._vad
            model.reset_states()
            spans = module.get_speech_timestamps(
                torch.from_numpy(np.ascontiguousarray(waveform)), model,
                sampling_rate=sample_rate, return_seconds=True, time_resolution=2,
            )
        segments = [{"start_s": float(s["start"]), "end_s": float(s["end"])} for s in spans]
        total = sum(s["end_s"] - s["start_s"] for s in segments)
        data = {"segments": segments, "speech_s": total, "speech_fraction": total / (waveform.size / sample_rate)}
        if not segments:
            return "no speech", data
        listed = ", ".join(span_text(s["start_s"], s["end_s"]) for s in segments[:MAX_LISTED])
        more = ", ..." if len(segments) > MAX_LISTED else ""
        return f"speech {listed}{more} ({total:.2f} s of speech)", data
