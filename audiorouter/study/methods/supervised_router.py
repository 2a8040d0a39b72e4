"""The ``supervised-router`` method: the RL router's network, trained to imitate the oracle.

    table = build_outcome_table(source, train_ids, tasks, candidate_subsets(tools, actions.subsets))
    policy, info = fit_supervised_router(features, table, actions, hidden_sizes=(64,), seed=0,
                                         validation=(val_features, val_table))
    decisions = policy.route(test_features.matrix(), test_features.item_ids)   # greedy, unchanged

Labels are exactly the oracle the evaluation reports: per item ``table.oracle(actions.subsets)``,
the allowed subset with the fewest tools (ties: by the sorted tool names) that makes the
reasoner right, else no tool (``oracle_labels``). The net is ``RouterNet`` with its input
standardised by ``feature_stats`` of the training features, as ``RouterTrainer`` builds it,
so its logits mean what an RL-trained router's mean and ``RouterPolicy`` routes it as is.

Loss over the labelled items D, with z_i = net(x_i):

* ``subsets`` -- y_i is the index of item i's label in ``actions.subsets``:

      L = -1/|D| sum_i log softmax(z_i)[y_i]

* ``per_tool`` -- z_i is read as (n_tools, 2) rows [off, on] (``logits.reshape(-1, 2)``, as
  RLlib's MultiCategorical with ``input_lens=[2] * n_tools`` and ``RouterPolicy`` read it);
  s_it = 1 if tool t is in item i's label:

      L = -1/|D| sum_i sum_t log softmax(z_it)[s_it]

  i.e. per-tool binary cross-entropy; the sum over tools is -log p(label) under the
  factorised policy, the log-probability ``RouterPolicy`` reports.

AdamW in shuffled minibatches for ``epochs`` passes. With a validation set, the routing
accuracy of the greedy router on it (then the validation loss) is measured after every
epoch; the best epoch's weights are kept, and training stops after ``patience`` epochs
without a better one. On one CPU thread, deterministic for a seed (the caller's torch RNG
is left untouched).

Items no allowed subset makes right (``SupervisedSettings.drop_no_help``, default on):
the oracle labels them "no tool", but only as a tie-break -- every choice scores the same
on them, so the label says nothing about which tool helps. Kept, they are pure label noise
toward "no tool": within a task whose features cannot tell hopeless items from helpable
ones, they can outvote the tool that helps the rest (e.g. 40% hopeless + 25% right
without tools against 35% helped by tool A: the router learns "no tool" and scores 25%;
without the hopeless items it learns A and scores 60%, the oracle's accuracy). Dropping
them costs no accuracy on them (no choice can be right) and leaves the loss to the items
whose outcome the choice decides. When no training item is helped at all, none is dropped
(the router then learns the oracle's "no tool").

A study trial (``train_and_score``) builds the outcome table of its training items from
the pool and ends like every router trial (router.save_and_score).

Imports: outcomes, router, study.context, study.methods.router, study.methods.routing_tables.
"""

from __future__ import annotations

import copy
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from audiorouter.features import FeatureSpec, ItemFeatures
from audiorouter.outcomes.table import OutcomeTable, Subset
from audiorouter.router.actions import ActionSpace
from audiorouter.router.policy import RouterNet, RouterPolicy, feature_stats
from audiorouter.study.context import StudyContext, TrialSpec
from audiorouter.study.methods.router import save_and_score, untrained_router
from audiorouter.study.methods.routing_tables import (
    feature_matrix,
    require_columns,
    seeded_one_thread,
    subset_name,
    training_table,
)


@dataclass(frozen=True)
class SupervisedSettings:
    epochs: int = 200  # most passes over the labelled training items
    lr: float = 3e-3  # AdamW
    weight_decay: float = 1e-2  # AdamW (decoupled)
    batch_size: int = 64
    patience: int = 20  # with validation: epochs without a better validation score before stopping
    drop_no_help: bool = True  # leave items no subset makes right out of the loss (module docstring)

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "patience"):
            if getattr(self, name) < 1:
                raise ValueError(f"SupervisedSettings.{name} must be >= 1, got {getattr(self, name)}")


@dataclass
class OracleLabels:
    """The oracle's subset per item of a table, and the router action that names it."""

    item_ids: list[str]
    subsets: list[Subset]  # per item: exactly table.oracle(actions.subsets) (tools sorted by name)
    actions: np.ndarray  # (N,) int64 subset index, or (N, n_tools) int64 0/1 switches for per_tool
    helped: np.ndarray  # (N,) bool: some allowed subset makes the reasoner right

    def counts(self, rows: np.ndarray | None = None) -> dict[str, int]:
        """How many items (of ``rows``, a bool mask; default all) carry each label."""
        chosen = self.subsets if rows is None else [s for s, keep in zip(self.subsets, rows, strict=True) if keep]
        return {subset_name(s): n for s, n in sorted(Counter(chosen).items(), key=lambda kv: (len(kv[0]), kv[0]))}


def oracle_labels(table: OutcomeTable, actions: ActionSpace) -> OracleLabels:
    """Per item of ``table``, the oracle's subset over ``actions.subsets`` and its action."""
    require_columns(table, actions)
    allowed = list(actions.subsets)
    subsets = table.oracle(allowed)
    helped = table.correct[:, [table.column(s) for s in allowed]].any(axis=1)
    shape = (len(subsets),) if actions.kind == "subsets" else (len(subsets), len(actions.tools))
    targets = np.array([actions.to_action(s) for s in subsets], dtype=np.int64).reshape(shape)
    return OracleLabels(list(table.item_ids), subsets, targets, helped)


def fit_supervised_router(
    features: ItemFeatures, table: OutcomeTable, actions: ActionSpace, hidden_sizes: Sequence[int] = (64,),
    seed: int = 0, settings: SupervisedSettings | None = None,
    validation: tuple[ItemFeatures, OutcomeTable] | None = None, feature_spec: FeatureSpec | None = None,
) -> tuple[RouterPolicy, dict]:
    """Train a ``RouterNet`` on the oracle labels of ``table``'s items (``features`` must
    hold them all; their mean and std, over every training item, standardise the input);
    ``validation`` (features, table) enables early stopping. Returns the policy and
    ``info``: label counts of the items trained on, items dropped, epochs run and kept,
    losses, greedy routing accuracy on the training (and validation) items, settings."""
    settings = settings or SupervisedSettings()
    began = time.perf_counter()
    labels = oracle_labels(table, actions)
    if not labels.item_ids:
        raise ValueError("supervised router: the outcome table holds no training items")
    x = feature_matrix(features, labels.item_ids, "training")
    if feature_spec is not None and feature_spec.dim != x.shape[1]:
        raise ValueError(f"feature_spec describes {feature_spec.dim} features; the training matrix has {x.shape[1]}")
    keep = labels.helped if settings.drop_no_help and labels.helped.any() else np.ones(len(x), bool)
    train = _Batch.of(x[keep], labels.actions[keep])
    val = _Validation.of(*validation, actions, settings) if validation else None
    mean, std = feature_stats(x)
    with seeded_one_thread(seed):
        net = RouterNet(x.shape[1], actions.num_logits, hidden_sizes, mean, std)
        epochs, best_epoch = _train(net, train, val, actions, settings, seed)
        net.eval()
        train_loss = _mean_loss(net, train, actions.kind)
        val_accuracy, val_loss = val.score(net, actions) if val else (None, None)
    policy = RouterPolicy(net, actions, feature_spec or FeatureSpec(), tuple(hidden_sizes))
    routed = table.correct_for(actions.greedy(policy.logits(x)))
    info = {
        "action_kind": actions.kind, "items": len(x), "labelled": int(keep.sum()),
        "dropped_no_help": int((~keep).sum()), "labels": labels.counts(keep),
        "epochs": epochs, "best_epoch": best_epoch, "train_loss": train_loss,
        "train_accuracy": float(routed.mean()), "oracle_train_accuracy": float(labels.helped.mean()),
        "val_accuracy": val_accuracy, "val_loss": val_loss, "settings": asdict(settings),
        "hidden_sizes": list(hidden_sizes), "seed": seed, "fit_s": round(time.perf_counter() - began, 3),
    }
    return policy, info


def train_and_score(spec: TrialSpec, ctx: StudyContext, folder: Path) -> tuple[dict[str, list[bool]], dict]:
    """A ``supervised-router`` trial: fit on the trial's items, keep the policy, score every evaluation split."""
    if spec.train_size == 0:  # the network before training, as for the RL routers
        return save_and_score(*untrained_router(ctx, spec.seed), ctx, folder)
    return save_and_score(*train_supervised_router(spec, ctx), ctx, folder)


def train_supervised_router(spec: TrialSpec, ctx: StudyContext) -> tuple[RouterPolicy, dict]:
    cfg = ctx.config
    table, actions, info = training_table(spec, ctx)
    policy, fitted = fit_supervised_router(ctx.router_features(list(table.item_ids)), table, actions,
                                           tuple(cfg.router.hidden_sizes), spec.seed, feature_spec=ctx.feature_spec)
    return policy, fitted | info


# ----------------------------------------------------------------------- training


@dataclass
class _Batch:
    x: torch.Tensor  # (N, dim) float32 raw features (the net standardises them)
    y: torch.Tensor  # (N,) or (N, n_tools) int64 oracle actions

    @classmethod
    def of(cls, x: np.ndarray, y: np.ndarray) -> _Batch:
        return cls(torch.from_numpy(np.ascontiguousarray(x, np.float32)), torch.from_numpy(y))

    def __len__(self) -> int:
        return len(self.y)


@dataclass
class _Validation:
    """Held-out items: greedy routing accuracy from their table, loss on their labels."""

    x: np.ndarray
    table: OutcomeTable
    labelled: _Batch

    @classmethod
    def of(cls, features: ItemFeatures, table: OutcomeTable, actions: ActionSpace,
           settings: SupervisedSettings) -> _Validation:
        labels = oracle_labels(table, actions)
        x = feature_matrix(features, labels.item_ids, "validation")
        keep = labels.helped if settings.drop_no_help and labels.helped.any() else np.ones(len(x), bool)
        return cls(x, table, _Batch.of(x[keep], labels.actions[keep]))

    def score(self, net: RouterNet, actions: ActionSpace) -> tuple[float, float]:
        """(routing accuracy, mean loss); an empty validation set scores (0, 0)."""
        if not len(self.x):
            return 0.0, 0.0
        with torch.no_grad():
            logits = net(torch.from_numpy(self.x)).numpy()
        accuracy = float(self.table.correct_for(actions.greedy(logits)).mean())
        return accuracy, _mean_loss(net, self.labelled, actions.kind)


def _loss(logits: torch.Tensor, y: torch.Tensor, kind: str) -> torch.Tensor:
    """Per-item loss (N,): -log p(label), see the module docstring."""
    if kind == "subsets":
        return nn.functional.cross_entropy(logits, y, reduction="none")
    per_tool = nn.functional.cross_entropy(logits.reshape(-1, 2), y.reshape(-1), reduction="none")
    return per_tool.reshape(len(y), -1).sum(dim=1)


def _mean_loss(net: RouterNet, batch: _Batch, kind: str) -> float:
    if not len(batch):
        return 0.0
    with torch.no_grad():
        return float(_loss(net(batch.x), batch.y, kind).mean())


def _train(net: RouterNet, train: _Batch, val: _Validation | None, actions: ActionSpace,
           settings: SupervisedSettings, seed: int) -> tuple[int, int]:
    """AdamW over shuffled minibatches; with ``val``, the best epoch is kept (early
    stopping). Returns (epochs run, epoch whose weights are kept)."""
    optimiser = torch.optim.AdamW(net.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    order = torch.Generator().manual_seed(seed)
    best: tuple[tuple[float, float], int, dict] | None = None  # (accuracy, -loss), epoch, state
    epoch = 0
    for epoch in range(1, settings.epochs + 1):
        net.train()
        for rows in torch.randperm(len(train), generator=order).split(settings.batch_size):
            loss = _loss(net(train.x[rows]), train.y[rows], actions.kind).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        if val is None:
            continue
        accuracy, val_loss = val.score(net, actions)
        if best is None or (accuracy, -val_loss) > best[0]:
            best = ((accuracy, -val_loss), epoch, copy.deepcopy(net.state_dict()))
        elif epoch - best[1] >= settings.patience:
            break
    if best is None:
        return epoch, epoch
    net.load_state_dict(best[2])
    return epoch, best[1]
