"""Internalisation baselines: small models that learn the perception from labelled items.

    features = featurize(train + val + test, HEAD_SPEC, cache_dir="runs/features")
    fitted = fit_internaliser("pretrained", train, val, features, seed=0)
    picks = fitted.predict(test)            # chosen choice index per item
    fitted.info                             # chosen config, steps, val accuracy, the grid

Kinds (``KINDS``):

* ``pretrained`` -- the audio input is frozen: YAMNet embedding stats, log-mel stats and
  the coarse log-mel profile (features.ItemFeatures), standardised and projected onto their
  top principal components (fitted on the training items);
* ``scratch`` -- the audio input is a small temporal CNN over the log-mel matrix,
  trained end to end with the head;
* ``reasoner`` -- ``pretrained`` plus, per choice, the frozen reasoner's own
  no-evidence score r (log-softmax over the item's choices), as an input and as a skip;
* ``no-audio`` -- the same head with no audio input at all: what the question and the
  choices' texts and values alone teach. A control, not a baseline: it measures how
  much of any line is learnt without hearing (answer priors, the truth's place among
  numeric options near the bounds);
* ``tools`` (the study's ``tools-supervised``) -- instead of audio, every tool's parsed
  output (tool_features: numbers and labels, not the summaries), standardised and
  projected like ``pretrained``'s audio input: the rival that separates learning to
  route from having the tools.

The head scores choice j of item i. With a = audio input, q and c_j the MiniLM
embeddings of the question and the choice (projected onto the training texts' top
components), v_j the choice's numeric features (``value_features``):

    h_i          = relu(W_a a + W_q q)                        context, H numbers
                   (then depth - 1 more layers relu(W h_i + b))
    (p_i, m_i)   = W_h h_i                                    2H
    (s_ij, n_ij) = W_c c_j + W_v v_j                          2H
    score_ij     = u . relu(p_i + s_ij) + m_i . n_ij / sqrt(H) + (alpha + t . q) r_ij

``u`` and the n half of W_c, W_v start at zero, so an untrained head scores every choice
0 and the ``reasoner`` kind starts as the reasoner's argmax (alpha starts at 1, the
per-question trust t at 0). Loss: cross-entropy of softmax(score_i) over the item's
choices (padding masked).

Training (``TrainBudget``): AdamW on precomputed tensors in shuffled batches (256; 128
for scratch), evaluated on the validation items before the first step and then every
epoch, at least ``min_eval_every`` steps apart; the best evaluation (accuracy, then
loss) is kept; training stops after ``patience`` evaluations without a better one, or
when the budget is spent: ``max_epochs`` passes over the training items (at least
``min_steps`` steps), so the budget grows with the data. A run whose best evaluation was
its last one, when the budget ran out, had not converged: it is rerun with twice the
budget, up to ``growths`` times, and ``budget_hit`` says whether the kept run still
ended so. Every config of the grid is trained so, at every training size, and the one
with the best validation accuracy (then loss) is kept: ``GRID`` is 12 configurations
drawn once, with a fixed seed, from width x depth x dropout x learning rate x weight
decay (``WIDE``); ``SCRATCH_GRID`` 4 (the CNN costs more). One CPU thread,
deterministic for a seed.

A study trial (``train_and_score``; the registry, ``study.methods``, names each
method's head kind) reads the features the driver prepared (head_inputs.prepare_internalisation), fits on
the trial's training items, with early stopping and the grid chosen on the fixed
validation split (not counted in ``train_size``: it gives the baselines their best
chance), and scores the test split.

Imports: contracts, features, study.context, study.dataset, study.methods (.head_inputs,
.choice_values, .head_model, .threads, .tool_features).
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from audiorouter.contracts import AudioQAItem
from audiorouter.features import ItemFeatures
from audiorouter.study.context import StudyContext, TrialSpec
from audiorouter.study.dataset import load_items
from audiorouter.study.methods.catalog import training_cost
from audiorouter.study.methods.choice_values import NUMERIC_DIM, unit_stats, value_features
from audiorouter.study.methods.head_inputs import load_prepared
from audiorouter.study.methods.head_model import ChoiceScorer, HeadBatch, HeadConfig, MelEncoder
from audiorouter.study.methods.threads import one_thread
from audiorouter.study.methods.tool_features import Fields, ToolVectoriser, load_tool_fields

KINDS = ("pretrained", "scratch", "reasoner", "no-audio", "tools")
PCA_ROWS = 2048  # training items the audio principal directions are fitted on, at most


@dataclass(frozen=True)
class TrainBudget:
    batch_size: int = 256
    max_epochs: int = 100  # passes over the training items ...
    min_steps: int = 400  # ... but at least this many steps (a few items make a one-step epoch)
    min_eval_every: int = 10  # steps: with fewer items than a batch, an epoch is one step
    patience: int = 6  # evaluations without a better one
    growths: int = 2  # reruns with twice the budget while the best evaluation is the last one
    audio_components: int = 256  # principal components of the frozen audio input
    text_components: int = 64  # of the MiniLM embeddings

    def steps_for(self, items: int) -> int:
        return max(self.min_steps, self.max_epochs * math.ceil(items / min(self.batch_size, items)))


WIDE = {"hidden": (64, 128, 256), "depth": (1, 2), "dropout": (0.0, 0.2, 0.4), "lr": (1e-3, 3e-3, 1e-2),
        "weight_decay": (1e-4, 1e-2, 1e-1)}


def sampled_grid(count: int, seed: int) -> tuple[HeadConfig, ...]:
    """``count`` distinct configurations drawn uniformly from ``WIDE`` (fixed by ``seed``)."""
    combos = list(itertools.product(*WIDE.values()))
    picks = np.random.default_rng(seed).choice(len(combos), size=count, replace=False)
    return tuple(HeadConfig(**dict(zip(WIDE, combos[k], strict=True))) for k in sorted(picks))


GRID = sampled_grid(12, seed=0)
SCRATCH_GRID = sampled_grid(4, seed=1)
SCRATCH_BUDGET = TrainBudget(batch_size=128, max_epochs=60, min_steps=1500, min_eval_every=25, patience=6)


@dataclass
class FittedInternaliser:
    kind: str
    model: nn.Module
    inputs: _Inputs
    features: ItemFeatures
    reasoner_scores: dict[str, list[float]] | None
    tool_fields: dict[str, Fields] | None = None
    info: dict = field(default_factory=dict)

    def predict(self, items: Sequence[AudioQAItem], features: ItemFeatures | None = None,
                reasoner_scores: dict[str, list[float]] | None = None,
                tool_fields: dict[str, Fields] | None = None) -> list[int]:
        """The chosen choice index per item (features, reasoner scores and tool fields
        default to those given to the fit)."""
        if not items:
            return []
        scores = {**(self.reasoner_scores or {}), **(reasoner_scores or {})} if self.kind == "reasoner" else None
        fields = {**(self.tool_fields or {}), **(tool_fields or {})} if self.kind == "tools" else None
        batch = self.inputs.encode(items, features or self.features, scores, fields)
        with one_thread():
            return _scores(self.model, batch).argmax(dim=1).tolist()


def fit_internaliser(
    kind: str, train_items: Sequence[AudioQAItem], val_items: Sequence[AudioQAItem], features: ItemFeatures,
    seed: int, reasoner_scores: dict[str, list[float]] | None = None,
    grid: Sequence[HeadConfig] | None = None, budget: TrainBudget | None = None,
    tool_fields: dict[str, Fields] | None = None,
) -> FittedInternaliser:
    """Train one head per config of ``grid`` on ``train_items``, keep the best on
    ``val_items``. Without training items, the head as training would start it (the
    study's N=0 point): its input normalisation fitted on the validation items' inputs
    (their labels unread), the first config, no step. ``features`` must hold every item (train, val and later test);
    ``reasoner_scores`` (item id -> one score per choice) is needed by kind "reasoner",
    ``tool_fields`` (item id -> tool_features.flatten_results) by kind "tools"."""
    if kind not in KINDS:
        raise ValueError(f"unknown internaliser kind {kind!r}; valid: {', '.join(KINDS)}")
    if not val_items:
        raise ValueError(f"{kind}: needs validation items (got {len(train_items)} training and none)")
    if kind == "reasoner" and reasoner_scores is None:
        raise ValueError("kind 'reasoner' needs reasoner_scores (item id -> one score per choice)")
    if kind == "tools" and tool_fields is None:
        raise ValueError("kind 'tools' needs tool_fields (item id -> its tools' flattened outputs)")
    budget = budget or (SCRATCH_BUDGET if kind == "scratch" else TrainBudget())
    grid = list(grid or (SCRATCH_GRID if kind == "scratch" else GRID))
    began = time.perf_counter()
    if not train_items:
        return _untrained(kind, val_items, features, seed, reasoner_scores, grid[0], budget, tool_fields)
    with one_thread():
        torch.manual_seed(seed)
        inputs = _Inputs.fit(kind, train_items, features, budget, tool_fields)
        scores = reasoner_scores if kind == "reasoner" else None
        fields = tool_fields if kind == "tools" else None
        train = inputs.encode(train_items, features, scores, fields)
        val = inputs.encode(val_items, features, scores, fields)
        runs = [_train_to_convergence(kind, inputs, config, train, val, budget, seed) for config in grid]
    best = max(runs, key=lambda run: (run.val_accuracy, -run.val_loss))
    info = {"kind": kind, "config": asdict(best.config), "steps": best.steps,
            "epochs": round(best.steps / math.ceil(train.size / min(budget.batch_size, train.size)), 2),
            "val_accuracy": best.val_accuracy, "val_loss": best.val_loss,
            "budget_steps": best.budget_steps, "budget_hit": best.budget_hit,
            "grid": [{"config": asdict(r.config), "val_accuracy": r.val_accuracy, "val_loss": r.val_loss,
                      "steps": r.steps, "steps_run": r.steps_run, "budget_steps": r.budget_steps,
                      "budget_hit": r.budget_hit} for r in runs],
            "train_items": len(train_items), "val_items": len(val_items), "seed": seed,
            "fit_s": round(time.perf_counter() - began, 3)}
    return FittedInternaliser(kind, best.model, inputs, features, reasoner_scores, fields, info)


def _untrained(kind: str, val_items: Sequence[AudioQAItem], features: ItemFeatures, seed: int,
               reasoner_scores: dict[str, list[float]] | None, config: HeadConfig, budget: TrainBudget,
               tool_fields: dict[str, Fields] | None) -> FittedInternaliser:
    with one_thread():
        torch.manual_seed(seed)
        inputs = _Inputs.fit(kind, val_items, features, budget, tool_fields)
        model = _build(kind, inputs, config, seed).eval()
    fields = tool_fields if kind == "tools" else None
    info = {"kind": kind, "untrained": True, "config": asdict(config), "steps": 0, "train_items": 0,
            "val_items": len(val_items), "seed": seed}
    return FittedInternaliser(kind, model, inputs, features, reasoner_scores, fields, info)


# ------------------------------------------------------------------------- inputs



def train_and_score(spec: TrialSpec, ctx: StudyContext, folder: Path,
                    kind: str) -> tuple[dict[str, list[bool]], dict]:
    """A trial of the head ``kind`` (``KINDS``): fit on the trial's training items (the validation
    split picks the config and the stopping point), keep ``model.pt`` and ``fit.json``, score
    every evaluation split (the test split and the out-of-distribution ones)."""
    features, scores = load_prepared(ctx, scores=kind == "reasoner")
    fields = load_tool_fields(ctx.study_dir) if kind == "tools" else None
    data = ctx.data
    train = load_items(data.data_dir, data.training_splits, data.training_ids(spec.train_size, spec.seed), audio=False)
    val = load_items(data.data_dir, ("validation",), data.validation_ids, audio=False)
    fitted = fit_internaliser(kind, train, val, features, spec.seed, reasoner_scores=scores,
                              tool_fields=fields)
    torch.save(fitted.model.state_dict(), folder / "model.pt")
    (folder / "fit.json").write_text(json.dumps(fitted.info, indent=1))
    correct = {}
    for split, ids in data.eval_splits.items():
        items = load_items(data.data_dir, (split,), ids, audio=False)
        correct[split] = [item.choices[pick] == item.answer
                          for item, pick in zip(items, fitted.predict(items), strict=True)]
    # labelled items it chose its config and stopping point on (the study reports N with them too)
    labelled = len(train) + len(val)  # both are read: the validation items pick the config
    cost = training_cost(labelled if kind == "reasoner" else 0, labelled * len(ctx.tools) if kind == "tools" else 0)
    return correct, {"fit": fitted.info, "validation_items": len(val), "training_cost": cost}

@dataclass
class _Inputs:
    """Normalisation fitted on the training items, applied to any items."""

    kind: str
    audio_mean: np.ndarray
    audio_scale: np.ndarray
    audio_basis: np.ndarray | None  # (audio dim, k) principal directions; None for scratch
    text_mean: np.ndarray
    text_basis: np.ndarray  # (384, k)
    units: dict[str, tuple[float, ...]]  # unit -> mean, std of the value; of its signed log
    vectoriser: ToolVectoriser | None = None  # kind "tools": the tool fields seen in training

    @classmethod
    def fit(cls, kind: str, items: Sequence[AudioQAItem], features: ItemFeatures,
            budget: TrainBudget, tool_fields: dict[str, Fields] | None = None) -> _Inputs:
        rows = features.rows([item.id for item in items])
        vectoriser = None
        if kind == "tools":
            vectoriser = ToolVectoriser.fit([_fields_of(item, tool_fields) for item in items])
            vectors = vectoriser.transform([_fields_of(item, tool_fields) for item in items])
            mean, scale = vectors.mean(axis=0), vectors.std(axis=0) + 1e-3
            basis = _principal_directions((vectors - mean) / scale, budget.audio_components)
        elif kind == "scratch":
            mean, scale, basis = *_band_stats(features.mel, rows), None
        elif kind == "no-audio":  # one constant input: the context layer keeps only its bias
            mean, scale, basis = np.zeros(1), np.ones(1), np.zeros((1, 1))
        else:
            audio = features.audio_vectors(rows)
            mean, scale = audio.mean(axis=0), audio.std(axis=0) + 1e-3
            sample = np.random.default_rng(0).permutation(len(rows))[:PCA_ROWS]  # enough to find the directions
            basis = _principal_directions((audio[sample] - mean) / scale, budget.audio_components)
        texts = sorted({t for i in rows for t in (features.questions[i], *features.choices[i])})
        table = np.stack([features.text_vectors[t] for t in texts])
        text_basis = _principal_directions(table - table.mean(axis=0), budget.text_components)
        return cls(kind, mean, scale, basis, table.mean(axis=0), text_basis,
                   unit_stats([v for i in rows for v in features.values[i] if v is not None]), vectoriser)

    @property
    def numeric_dim(self) -> int:
        return NUMERIC_DIM + (2 if self.kind == "reasoner" else 0)

    def encode(self, items: Sequence[AudioQAItem], features: ItemFeatures,
               reasoner_scores: dict[str, list[float]] | None, tool_fields: dict[str, Fields] | None = None) -> HeadBatch:
        rows = features.rows([item.id for item in items])
        if self.kind == "tools":
            vectors = self.vectoriser.transform([_fields_of(item, tool_fields) for item in items])
            audio = torch.from_numpy((((vectors - self.audio_mean) / self.audio_scale) @ self.audio_basis)
                                     .astype(np.float32))
        elif self.kind == "scratch":
            audio = torch.from_numpy(features.mel[rows])
        elif self.kind == "no-audio":
            audio = torch.zeros((len(rows), 1))
        else:
            audio = torch.from_numpy(((features.audio_vectors(rows) - self.audio_mean) / self.audio_scale
                                      @ self.audio_basis).astype(np.float32))
        texts = sorted({t for i in rows for t in (features.questions[i], *features.choices[i])})
        where = {t: k for k, t in enumerate(texts)}
        table = (np.stack([features.text_vectors[t] for t in texts]) - self.text_mean) @ self.text_basis
        width = max(len(features.choices[i]) for i in rows)
        choices = np.zeros((len(rows), width), np.int64)
        numeric = np.zeros((len(rows), width, self.numeric_dim), np.float32)
        mask = np.zeros((len(rows), width), bool)
        reasoner = np.zeros((len(rows), width), np.float32)
        numeric[:, :, :NUMERIC_DIM] = value_features([features.values[i] for i in rows], self.units, width)
        for n, (item, i) in enumerate(zip(items, rows, strict=True)):
            count = len(features.choices[i])
            choices[n, :count] = [where[c] for c in features.choices[i]]
            mask[n, :count] = True
            if reasoner_scores is not None:
                reasoner[n, :count] = _log_softmax_scores(item, reasoner_scores)
                numeric[n, :count, NUMERIC_DIM] = reasoner[n, :count]
                numeric[n, :count, NUMERIC_DIM + 1] = reasoner[n, :count] == reasoner[n, :count].max()
        answers = [item.choices.index(item.answer) if item.answer in item.choices else -1 for item in items]
        return HeadBatch(audio, torch.from_numpy(table.astype(np.float32)),
                      torch.from_numpy(np.array([where[features.questions[i]] for i in rows])),
                      torch.from_numpy(choices), torch.from_numpy(numeric), torch.from_numpy(mask),
                      torch.from_numpy(reasoner), torch.tensor(answers, dtype=torch.long))


def _fields_of(item: AudioQAItem, tool_fields: dict[str, Fields]) -> Fields:
    if item.id not in tool_fields:
        raise ValueError(f"no tool outputs for item {item.id!r} (the study's tool pass did not cover it)")
    return tool_fields[item.id]


def _band_stats(mel: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per mel band: mean and std (+ 1e-3) over the frames of the training clips."""
    total, squares = np.zeros(mel.shape[1]), np.zeros(mel.shape[1])
    for start in range(0, len(rows), 512):
        part = mel[rows[start : start + 512]].astype(np.float64)
        total, squares = total + part.sum(axis=(0, 2)), squares + (part * part).sum(axis=(0, 2))
    count = len(rows) * mel.shape[2]
    mean = total / count
    return mean, np.sqrt(np.maximum(squares / count - mean * mean, 0.0)) + 1e-3


def _principal_directions(centred: np.ndarray, k: int) -> np.ndarray:
    """(dim, min(k, rows, dim)) the top right singular vectors (seeded randomised SVD)."""
    k = min(k, *centred.shape)
    _, _, v = torch.svd_lowrank(torch.from_numpy(centred.astype(np.float32)), q=k, niter=2)
    return v.numpy()


def _log_softmax_scores(item: AudioQAItem, reasoner_scores: dict[str, list[float]]) -> np.ndarray:
    if item.id not in reasoner_scores:
        raise ValueError(f"no reasoner scores for item {item.id!r}")
    scores = np.asarray(reasoner_scores[item.id], dtype=np.float64)
    if scores.shape != (len(item.choices),) or np.isnan(scores).any():
        raise ValueError(f"item {item.id!r}: {len(item.choices)} choices but reasoner scores {scores.tolist()}")
    scores = np.maximum(scores, scores.max() - 30.0)  # -inf and far-off scores: 30 nats below the best
    return (scores - scores.max() - np.log(np.exp(scores - scores.max()).sum())).astype(np.float32)


def _build(kind: str, inputs: _Inputs, config: HeadConfig, seed: int) -> ChoiceScorer:
    torch.manual_seed(seed)
    encoder = MelEncoder(inputs.audio_mean, inputs.audio_scale) if kind == "scratch" else None
    audio_dim = 128 if encoder else inputs.audio_basis.shape[1]
    return ChoiceScorer(audio_dim, inputs.text_basis.shape[1], inputs.numeric_dim, config, encoder,
                        reasoner=kind == "reasoner")


# ----------------------------------------------------------------------- training


@dataclass
class _Run:
    config: HeadConfig
    model: nn.Module
    val_accuracy: float
    val_loss: float
    steps: int  # at the kept evaluation
    steps_run: int
    budget_steps: int  # the step budget of this run
    budget_hit: bool = False  # the budget ran out while the last evaluation was the best: not converged


def _train_to_convergence(kind: str, inputs: _Inputs, config: HeadConfig, train: HeadBatch, val: HeadBatch,
                          budget: TrainBudget, seed: int) -> _Run:
    """Train one config; while the budget, not patience, ended a run at its best evaluation,
    train it again from the start with twice the budget (``budget.growths`` times at most)."""
    steps = budget.steps_for(train.size)
    for _ in range(budget.growths + 1):
        run = _train(_build(kind, inputs, config, seed), train, val, config, budget, seed, steps)
        if not run.budget_hit:
            break
        steps *= 2
    return run


def _train(model: ChoiceScorer, train: HeadBatch, val: HeadBatch, config: HeadConfig, budget: TrainBudget,
           seed: int, max_steps: int) -> _Run:
    """AdamW in shuffled batches; the best validation evaluation is kept (see module doc)."""
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay,
                                  foreach=True)
    order = torch.Generator().manual_seed(seed)
    batch_size = min(budget.batch_size, train.size)
    eval_every = max(math.ceil(train.size / batch_size), budget.min_eval_every)
    best = (*_evaluate(model, val), 0, copy.deepcopy(model.state_dict()))
    step, waited = 0, 0
    model.train()
    while step < max_steps and waited < budget.patience:
        epoch = train.take(torch.randperm(train.size, generator=order))  # one gather; batches are views
        for start in range(0, train.size, batch_size):
            batch = epoch.take(slice(start, start + batch_size))
            loss = nn.functional.cross_entropy(model(batch), batch.answer, ignore_index=-1)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            step += 1
            if step % eval_every == 0 or step == max_steps:
                accuracy, val_loss = _evaluate(model, val)
                better = (accuracy, -val_loss) > (best[0], -best[1])
                best = (accuracy, val_loss, step, copy.deepcopy(model.state_dict())) if better else best
                waited = 0 if better else waited + 1
                if waited >= budget.patience or step >= max_steps:
                    break
                model.train()
    model.load_state_dict(best[3])
    model.eval()
    return _Run(config, model, best[0], best[1], best[2], step, max_steps,
                budget_hit=step >= max_steps and best[2] == step)


def _evaluate(model: nn.Module, batch: HeadBatch) -> tuple[float, float]:
    """(accuracy, mean cross-entropy) on ``batch``."""
    scores = _scores(model, batch)
    accuracy = (scores.argmax(dim=1) == batch.answer).float().mean().item()
    return accuracy, nn.functional.cross_entropy(scores, batch.answer, ignore_index=-1).item()


def _scores(model: nn.Module, batch: HeadBatch, chunk: int = 1024) -> torch.Tensor:
    """(N, C) scores in evaluation mode, ``chunk`` items at a time."""
    model.eval()
    with torch.no_grad():
        return torch.cat([model(batch.take(rows)) for rows in torch.arange(batch.size).split(chunk)])
