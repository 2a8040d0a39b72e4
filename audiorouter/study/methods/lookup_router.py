"""The ``lookup-router`` method: no network, the simplest routing anyone would try first.

    table = build_outcome_table(source, ids, tasks, list(actions.subsets))
    router, info = fit_lookup_router(features, table, actions)
    decisions = router.route(test_features.matrix(), test_ids)

Fitting groups the training items by the task label they carry (``OutcomeTable.tasks``:
the built-in suite's families, MMAU/MMAR's sub-categories) and chooses per group the
allowed subset with the highest mean outcome on its items, minus the RL reward's tool cost
when one is set (ties: fewer tools, then the action space's order). Routing assigns an item
to a group by a nearest-centroid classifier on the question embedding (cosine to each
group's mean embedding of its training items), then calls that group's subset. Training
items without a task label choose nothing of their own; when no item has one, every item
is routed to the subset best over all training items (the fallback).

``LookupRouter`` routes and saves like a ``RouterPolicy`` (``save_and_score`` ends its
trial as every router's); its N=0 point is the no-tools constant line (no table, no group).

Imports: features, outcomes, rl.rewards, router, study.context, study.methods.router, study.methods.routing_tables.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audiorouter.contracts import RoutingDecision
from audiorouter.features import FeatureSpec, ItemFeatures
from audiorouter.features.spec import QUESTION_DIM
from audiorouter.outcomes.table import OutcomeTable, Subset
from audiorouter.rl.rewards import ToolCost
from audiorouter.router.actions import ActionSpace
from audiorouter.study.context import StudyContext, TrialSpec
from audiorouter.study.methods.router import save_and_score
from audiorouter.study.methods.routing_tables import action_values, subset_name, training_table


@dataclass
class LookupRouter:
    """Per group: a question-embedding centroid and the subset it calls."""

    actions: ActionSpace
    groups: list[str]
    centroids: np.ndarray  # (groups, QUESTION_DIM), unit length
    chosen: list[Subset]  # per group
    fallback: Subset  # when there is no group
    feature_spec: FeatureSpec

    def route(self, features: np.ndarray, item_ids: list[str]) -> list[RoutingDecision]:
        """Each item to its nearest group's subset (the first columns of a router feature row
        are the question embedding)."""
        if not self.groups:
            return [RoutingDecision(item_id, self.fallback) for item_id in item_ids]
        nearest = (_unit(np.asarray(features)[:, :QUESTION_DIM]) @ self.centroids.T).argmax(axis=1)
        return [RoutingDecision(i, self.chosen[g]) for i, g in zip(item_ids, nearest, strict=True)]

    def save(self, directory: str | Path) -> Path:
        """``lookup.json``: the groups, their subsets and centroids, the action space."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        (out / "lookup.json").write_text(json.dumps({
            "actions": self.actions.to_dict(), "features": self.feature_spec.to_dict(),
            "groups": self.groups, "chosen": [list(s) for s in self.chosen], "fallback": list(self.fallback),
            "centroids": self.centroids.tolist()}))
        return out

    @classmethod
    def load(cls, directory: str | Path) -> LookupRouter:
        raw = json.loads((Path(directory) / "lookup.json").read_text())
        centroids = np.asarray(raw["centroids"], dtype=np.float32).reshape(len(raw["groups"]), QUESTION_DIM)
        return cls(ActionSpace.from_dict(raw["actions"]), raw["groups"], centroids,
                   [tuple(s) for s in raw["chosen"]], tuple(raw["fallback"]), FeatureSpec(**raw["features"]))


def best_subset(values: np.ndarray, actions: ActionSpace) -> Subset:
    """The allowed subset of highest mean value over the rows of ``values`` (items x
    ``actions.subsets``); ties: fewer tools, then the action space's order."""
    means = values.mean(axis=0)
    order = sorted(range(len(actions.subsets)), key=lambda a: (-means[a], len(actions.subsets[a]), a))
    return actions.subsets[order[0]]


def fit_lookup_router(features: ItemFeatures, table: OutcomeTable, actions: ActionSpace,
                      cost: ToolCost | None = None, feature_spec: FeatureSpec | None = None) -> tuple[LookupRouter, dict]:
    """Group ``table``'s items by task, choose each group's best subset, fit the centroids."""
    began = time.perf_counter()
    if not table.item_ids:
        raise ValueError("lookup router: the outcome table holds no training items")
    values = action_values(table, actions, cost)
    question = features.select(list(table.item_ids)).question
    tasks = np.array([t or "" for t in table.tasks], dtype=object)
    groups = sorted({t for t in tasks if t})
    chosen = [best_subset(values[tasks == g], actions) for g in groups]
    centroids = np.stack([_unit(question[tasks == g].mean(axis=0, keepdims=True))[0] for g in groups]) \
        if groups else np.zeros((0, QUESTION_DIM), np.float32)
    router = LookupRouter(actions, groups, centroids.astype(np.float32), chosen, best_subset(values, actions),
                          feature_spec or FeatureSpec())
    routed = [d.tools for d in router.route(features.select(list(table.item_ids)).matrix(), list(table.item_ids))]
    info = {"items": len(table.item_ids), "groups": {g: {"items": int((tasks == g).sum()), "subset": subset_name(s)}
                                                      for g, s in zip(groups, chosen, strict=True)},
            "fallback": subset_name(router.fallback), "train_accuracy": float(table.correct_for(routed).mean()),
            "train_mean_tools": float(np.mean([len(s) for s in routed])), "fit_s": round(time.perf_counter() - began, 3)}
    return router, info


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


def train_and_score(spec: TrialSpec, ctx: StudyContext, folder: Path) -> tuple[dict[str, list[bool]], dict]:
    """A ``lookup-router`` trial: fit on the trial's items' table, keep it, score every split."""
    table, actions, info = training_table(spec, ctx)
    cost = ToolCost(ctx.config.train.tool_cost_weight, ctx.tool_latency_s)
    router, fitted = fit_lookup_router(ctx.router_features(list(table.item_ids)), table, actions, cost,
                                       ctx.feature_spec)
    return save_and_score(router, fitted | info, ctx, folder)
