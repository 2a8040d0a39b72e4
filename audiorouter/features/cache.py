"""The feature cache: ``DIR/<spec.key>/<safe id>-<hash>.npz``, one file of named arrays
per item (``question``, ``stats`` and the spec's other blocks). The hash covers the
item's id, question and audio (and its choices when the spec embeds them), so an edited
item is recomputed and a changed spec never reads stale arrays. Writes are atomic
(readers never see half a file); an unreadable entry (a torn write) or one of the wrong
shapes is logged or ignored and recomputed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from pathlib import Path

import numpy as np

from audiorouter.contracts import AudioQAItem
from audiorouter.features.spec import QUESTION_DIM, YAMNET_DIM, FeatureSpec

log = logging.getLogger(__name__)
UNREADABLE = (OSError, ValueError, EOFError)  # what np.load raises on a torn or foreign file


class FeatureCache:
    def __init__(self, cache_dir: str | Path, spec: FeatureSpec) -> None:
        self.spec = spec
        self.dir = Path(cache_dir) / spec.key
        self.dir.mkdir(parents=True, exist_ok=True)

    def digest(self, item: AudioQAItem) -> str:
        digest = hashlib.sha256(content_hash(item).encode())
        if self.spec.choices:
            digest.update("\x1f".join(item.choices).encode())
        return digest.hexdigest()

    def path(self, item: AudioQAItem) -> Path:
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", item.id)[:80]
        return self.dir / f"{safe}-{self.digest(item)[:16]}.npz"

    def get(self, item: AudioQAItem) -> dict[str, np.ndarray] | None:
        path = self.path(item)
        if not path.exists():
            return None
        try:
            with np.load(path) as stored:
                record = {name: stored[name] for name in stored.files}
        except UNREADABLE as exc:
            log.warning("unreadable feature cache entry %s (%s); recomputing", path, exc)
            return None
        return record if self.valid(item, record) else None

    def put(self, item: AudioQAItem, record: dict[str, np.ndarray]) -> None:
        path = self.path(item)
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
        np.savez(tmp, **record)
        tmp.replace(path)

    def valid(self, item: AudioQAItem, record: dict[str, np.ndarray]) -> bool:
        return all(name in record and record[name].shape == shape for name, shape in self.shapes(item).items())

    def shapes(self, item: AudioQAItem) -> dict[str, tuple[int, ...]]:
        spec = self.spec
        shapes = {"question": (QUESTION_DIM,), "stats": (spec.audio_dim,)}
        if spec.embedding:
            shapes["embedding"] = (2 * YAMNET_DIM,)
        if spec.matrix_mels:
            shapes["mel"] = (spec.matrix_mels, spec.matrix_frames)
        if spec.choices:
            shapes["choices"] = (len(item.choices), QUESTION_DIM)
        return shapes


def content_hash(item: AudioQAItem) -> str:
    digest = hashlib.sha256(item.id.encode())
    digest.update(item.question.encode())
    if item.audio:
        digest.update(item.audio)
    elif item.audio_path:
        path = Path(item.audio_path)
        digest.update(path.read_bytes() if path.is_file() else item.audio_path.encode())
    return digest.hexdigest()
