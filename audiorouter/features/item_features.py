"""``ItemFeatures``: the features of a set of items, one row per item id, as ``featurize``
gives them and as a study keeps them for its trials (``save``/``load``: one ``.npz`` of
plain arrays, no pickle).

    x = features.matrix()                 # (N, spec.dim) the router's input
    rows = features.rows(item_ids)        # the heads': row numbers, then
    features.audio_vectors(rows)          # (n, spec.head_audio_dim) frozen audio input
    features.mel[rows]                    # (n, mels, frames) float16 log-mel matrix, for a CNN
    features.text_vectors[text]           # (384,) a question's or a choice's embedding
    features.values[row]                  # per choice: ChoiceValue(value, unit) or None
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from audiorouter.features.spec import QUESTION_DIM, FeatureSpec
from audiorouter.features.values import ChoiceValue, parse_choice_value

BLOCKS = ("question", "audio", "embedding", "mel")  # per-item arrays, in row order


@dataclass
class ItemFeatures:
    item_ids: list[str]
    question: np.ndarray  # (N, 384) float32 unit-norm sentence embeddings
    audio: np.ndarray  # (N, spec.audio_dim) float32 log-mel statistics
    embedding: np.ndarray | None = None  # (N, 2048) float32 YAMNet mean then std (spec.embedding)
    mel: np.ndarray | None = None  # (N, matrix_mels, matrix_frames) float16 (spec.matrix_mels)
    questions: list[str] = field(default_factory=list)  # the texts, when the spec embeds choices
    choices: list[list[str]] = field(default_factory=list)
    choice_vectors: list[np.ndarray] = field(default_factory=list)  # per item: (choices, 384)
    spec: FeatureSpec = field(default_factory=FeatureSpec)
    cost: dict[str, float] = field(default_factory=dict)  # computed, cached, audio_s, text_s

    def __post_init__(self) -> None:
        self._index = {item_id: i for i, item_id in enumerate(self.item_ids)}

    # ------------------------------------------------------------------ the router's

    def matrix(self) -> np.ndarray:
        """(N, dim) float32: question then audio features."""
        return np.concatenate([self.question, self.audio], axis=1).astype(np.float32)

    def select(self, item_ids: Sequence[str]) -> ItemFeatures:
        """The router's blocks of ``item_ids``, in that order."""
        rows = [self._index[i] for i in item_ids]
        return ItemFeatures(list(item_ids), self.question[rows], self.audio[rows], spec=self.spec)

    # ------------------------------------------------------------------ the heads'

    def rows(self, item_ids: Sequence[str]) -> np.ndarray:
        missing = [i for i in item_ids if i not in self._index]
        if missing:
            raise KeyError(f"no features for {len(missing)} items (first {missing[0]!r}); compute them first")
        return np.array([self._index[i] for i in item_ids], dtype=np.int64)

    @functools.cached_property
    def profile(self) -> np.ndarray:
        """(N, profile_mels * profile_steps) float32: the mel matrix, averaged in blocks."""
        s = self.spec
        out = np.zeros((len(self.mel), s.profile_mels * s.profile_steps), np.float32)
        for start in range(0, len(self.mel), 1024):  # float32 copies of 1024 matrices at a time
            mel = self.mel[start : start + 1024].astype(np.float32)
            blocks = mel.reshape(len(mel), s.profile_mels, s.matrix_mels // s.profile_mels,
                                 s.profile_steps, s.matrix_frames // s.profile_steps)
            out[start : start + len(mel)] = blocks.mean(axis=(2, 4)).reshape(len(mel), -1)
        return out

    def audio_vectors(self, rows: np.ndarray) -> np.ndarray:
        """(n, spec.head_audio_dim) float32: YAMNet embedding stats, log-mel stats, profile."""
        return np.concatenate([self.embedding[rows], self.audio[rows], self.profile[rows]], axis=1)

    @functools.cached_property
    def text_vectors(self) -> dict[str, np.ndarray]:
        """Question or choice text -> its embedding (a text of several items: the last one's)."""
        vectors: dict[str, np.ndarray] = {}
        for row, question in enumerate(self.questions):
            vectors[question] = self.question[row]
            vectors.update(zip(self.choices[row], self.choice_vectors[row], strict=True))
        return vectors

    @functools.cached_property
    def values(self) -> list[list[ChoiceValue | None]]:
        return [[parse_choice_value(c) for c in choices] for choices in self.choices]

    # ------------------------------------------------------------------ several, and on disk

    @classmethod
    def concat(cls, parts: Sequence[ItemFeatures]) -> ItemFeatures:
        """One set holding the items of ``parts``, in order (all of one spec)."""
        first = parts[0]

        def joined(name):
            arrays = [getattr(p, name) for p in parts]
            return None if arrays[0] is None else np.concatenate(arrays)

        return cls([i for p in parts for i in p.item_ids], *(joined(name) for name in BLOCKS),
                   questions=[q for p in parts for q in p.questions], choices=[c for p in parts for c in p.choices],
                   choice_vectors=[v for p in parts for v in p.choice_vectors], spec=first.spec,
                   cost={k: sum(p.cost.get(k, 0) for p in parts) for k in first.cost})

    def save(self, path: str | Path) -> None:
        """One ``.npz`` of plain arrays (strings as unicode arrays), written atomically."""
        path = Path(path)
        arrays = {name: getattr(self, name) for name in BLOCKS if getattr(self, name) is not None}
        arrays |= {"item_ids": np.array(self.item_ids, dtype=str), "questions": np.array(self.questions, dtype=str),
                   "choice_texts": np.array([c for cs in self.choices for c in cs], dtype=str),
                   "choice_counts": np.array([len(cs) for cs in self.choices], dtype=np.int64),
                   "choice_vectors": (np.concatenate(self.choice_vectors) if self.choice_vectors
                                      else np.zeros((0, QUESTION_DIM), np.float32)),
                   "spec": np.array(json.dumps(self.spec.to_dict())), "cost": np.array(json.dumps(self.cost))}
        tmp = path.with_name(f"{path.stem}.tmp.npz")
        np.savez(tmp, **arrays)
        tmp.replace(path)

    @classmethod
    def load(cls, path: str | Path) -> ItemFeatures:
        with np.load(path) as stored:
            counts = stored["choice_counts"]
            edges = np.cumsum(counts)[:-1]
            texts = stored["choice_texts"].tolist()
            starts = [0, *edges.tolist()]
            return cls(stored["item_ids"].tolist(),
                       *(stored[name] if name in stored.files else None for name in BLOCKS),
                       questions=stored["questions"].tolist(),
                       choices=[texts[s : s + n] for s, n in zip(starts, counts.tolist(), strict=True)]
                       if len(counts) else [],
                       choice_vectors=np.split(stored["choice_vectors"], edges) if len(counts) else [],
                       spec=FeatureSpec(**json.loads(str(stored["spec"]))), cost=json.loads(str(stored["cost"])))
