"""Study trials of the internalisation baselines (study/internalise.py, and
study/internalise_lalm.py for ``internalise-lalm``), and what the driver prepares for
the heads once.

``prepare_internalisation`` (driver, before the sweep): every study item's features
(frozen YAMNet embeddings, log-mel statistics and matrix, MiniLM text vectors, parsed
choice values; item_features.py, cached per item on disk) into one file, and, when
``internalise-reasoner`` runs, the frozen reasoner's no-evidence choice scores of every
item, asked once of the shared reasoner actors (and memoised like every outcome).

``train_and_score_internaliser`` (trial): fit on the trial's training items, with early
stopping and the hyper-parameter grid chosen on the fixed validation split (which is
not counted in ``train_size``: it gives the baselines their best chance), and score the
test split. ``internalise-lalm`` reads the items with their audio and fine-tunes a LoRA
adapter on the lalm reasoner instead (saved as ``adapter/`` in the trial folder); it
needs none of the prepared features.
"""

from __future__ import annotations

import json
import logging
import pickle
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from audiorouter.contracts import ReasonerRequest
from audiorouter.data.audio_io import decode_audio
from audiorouter.data.items import iter_items, split_files
from audiorouter.study.context import StudyContext, TrialSpec
from audiorouter.study.item_features import ItemFeatures, compute_item_features
from audiorouter.study.items import load_items
from audiorouter.study.results import LALM_METHOD

log = logging.getLogger(__name__)
FEATURES_FILE = "item_features.pkl"
SCORES_FILE = "reasoner_scores.json"
KIND = {"internalise-pretrained": "pretrained", "internalise-scratch": "scratch", "internalise-reasoner": "reasoner",
        "internalise-no-audio": "no-audio"}
CHUNK = 512  # items decoded at once while preparing


def study_splits(ctx: StudyContext) -> tuple[str, ...]:
    return tuple(s for s in ("pool", "train", "validation", "test") if split_files(ctx.data.data_dir, s))


def prepare_internalisation(ctx: StudyContext) -> None:
    folder = Path(ctx.study_dir)
    if not any(m in KIND for m in ctx.config.study.methods):  # internalise-lalm alone needs no features
        return
    wants_scores = "internalise-reasoner" in ctx.config.study.methods
    if (folder / FEATURES_FILE).exists() and (not wants_scores or (folder / SCORES_FILE).exists()):
        return
    parts, scores = [], {}
    total = len(ctx.data.tasks)
    with tqdm(total=total, desc="item features", unit="item") as bar:
        for split in study_splits(ctx):
            chunk = []
            for item in iter_items(ctx.data.data_dir, split):
                chunk.append(item)
                if len(chunk) == CHUNK:
                    parts.append(prepare_chunk(ctx, chunk, scores if wants_scores else None))
                    bar.update(len(chunk))
                    chunk = []
            if chunk:
                parts.append(prepare_chunk(ctx, chunk, scores if wants_scores else None))
                bar.update(len(chunk))
    features = merge_features(parts)
    log.info("item features of %d items: %s", len(features.item_ids), features.cost)
    tmp = folder / f"{FEATURES_FILE}.tmp"
    with tmp.open("wb") as handle:
        pickle.dump(features, handle, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(folder / FEATURES_FILE)
    if wants_scores:
        (folder / SCORES_FILE).write_text(json.dumps(scores))


def prepare_chunk(ctx: StudyContext, items, scores: dict | None) -> ItemFeatures:
    features = compute_item_features(items, cache_dir=ctx.config.router.feature_cache_dir or None)
    if scores is not None:
        from audiorouter.reasoner.actor import answer_with_actors, reasoner_actors

        requests = []
        for item in items:
            waveform, sr = decode_audio(item.audio)
            requests.append(ReasonerRequest(item.id, waveform, sr, item.question, item.choices, item.answer, []))
        handles = reasoner_actors(ctx.config.reasoner.num_actors)
        for item, outcome in zip(items, answer_with_actors(handles, requests), strict=True):
            if outcome.error:
                raise RuntimeError(f"the reasoner could not answer study item {item.id}: {outcome.error}")
            scores[item.id] = list(outcome.scores)
    return features


def merge_features(parts: list[ItemFeatures]) -> ItemFeatures:
    """One ``ItemFeatures`` holding the items of ``parts``, in order."""
    first = parts[0]
    cost = {k: sum(p.cost.get(k, 0) for p in parts) for k in first.cost}
    return ItemFeatures(
        first.spec, [i for p in parts for i in p.item_ids],
        embedding=np.concatenate([p.embedding for p in parts]), stats=np.concatenate([p.stats for p in parts]),
        mel=np.concatenate([p.mel for p in parts]), questions=[q for p in parts for q in p.questions],
        choices=[c for p in parts for c in p.choices],
        text_vectors={k: v for p in parts for k, v in p.text_vectors.items()},
        values=[v for p in parts for v in p.values], cost=cost,
    )


def train_and_score_internaliser(spec: TrialSpec, ctx: StudyContext, folder: Path) -> tuple[list[bool], dict]:
    if spec.method == LALM_METHOD:
        return train_and_score_lalm_adapter(spec, ctx, folder)
    from audiorouter.study.internalise import fit_internaliser

    study_dir = Path(ctx.study_dir)
    with (study_dir / FEATURES_FILE).open("rb") as handle:
        features = pickle.load(handle)
    scores = json.loads((study_dir / SCORES_FILE).read_text()) if spec.method == "internalise-reasoner" else None
    data = ctx.data
    train = load_items(data.data_dir, ("pool", "train"), data.training_ids(spec.train_size, spec.seed), audio=False)
    val = load_items(data.data_dir, ("validation",), data.validation_ids, audio=False)
    test = load_items(data.data_dir, ("test",), data.test_ids, audio=False)
    fitted = fit_internaliser(KIND[spec.method], train, val, features, spec.seed, reasoner_scores=scores)
    picks = fitted.predict(test)
    torch.save(fitted.model.state_dict(), folder / "model.pt")
    (folder / "fit.json").write_text(json.dumps(fitted.info, indent=1))
    correct = [item.choices[pick] == item.answer for item, pick in zip(test, picks, strict=True)]
    return correct, {"fit": fitted.info}


def train_and_score_lalm_adapter(spec: TrialSpec, ctx: StudyContext, folder: Path) -> tuple[list[bool], dict]:
    """``internalise-lalm``: a LoRA adapter on the lalm reasoner, fitted on the trial's
    training items (with audio), early-stopped on the validation split, scored on the test split."""
    from audiorouter.study.internalise_lalm import fit_lalm_adapter

    data = ctx.data
    train = load_items(data.data_dir, ("pool", "train"), data.training_ids(spec.train_size, spec.seed))
    val = load_items(data.data_dir, ("validation",), data.validation_ids)
    fitted = fit_lalm_adapter(ctx.config.reasoner, train, val, spec.seed)
    del train, val  # their audio
    test = load_items(data.data_dir, ("test",), data.test_ids)
    picks = fitted.predict(test)
    fitted.save(folder / "adapter")
    (folder / "fit.json").write_text(json.dumps(fitted.info, indent=1))
    correct = [item.choices[pick] == item.answer for item, pick in zip(test, picks, strict=True)]
    return correct, {"fit": fitted.info}
