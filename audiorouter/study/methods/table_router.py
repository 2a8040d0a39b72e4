"""The ``table-router`` method: the RL router's network and features, trained on the full
outcome table of its training items -- supervised routing with the RL objective.

    table = build_outcome_table(source, ids, tasks, list(actions.subsets))  # every allowed subset
    policy, info = fit_table_router(features, table, actions, hidden_sizes=(64,), seed=0, cost=cost)

Where PPO samples one subset per episode and learns from that outcome, this method sees
every allowed subset's outcome for every training item (the pool's table, already in the
memo) and maximises the expected reward exactly, over the training items D:

    J = 1/|D| sum_i sum_s pi(s | x_i) * (correct(x_i, s) - cost(s))

``cost`` is the RL reward's tool cost (``rl.rewards.ToolCost``: weight x mean latency of the
tools called; zero when ``train.tool_cost_weight`` is 0). pi is the router's: a softmax over
the allowed subsets (``subsets``), or the product of per-tool on/off softmaxes (``per_tool``,
whose allowed subsets are all 2^n; the probabilities sum to one). So its greedy routing is
what RL's converges to, given the whole table, and it answers "does RL beat supervised
routing on the same tables" without the label rule ``supervised-router`` imposes.

It ascends J + tau * H(pi), H the policy's mean entropy (tau = ``TableSettings.entropy``,
small): plain gradient ascent on J alone stalls where the softmax has committed to a
subset (its gradient p(1 - p) vanishes), so a group could keep a second-best subset it
chose early; with the bonus the optimum per group is softmax(mean reward / tau), whose
greedy choice is the group's best subset. Like router-ppo it has no validation split:
AdamW, full batch, until the objective improved by less than ``tolerance`` over
``patience`` steps (``info["converged"]``) or ``epochs`` steps ran out.
Deterministic for a seed, on one CPU thread. Its N=0 trial is the untrained router.

Imports: outcomes, rl.rewards, router, study.context, study.methods.router, study.methods.routing_tables.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from audiorouter.features import FeatureSpec, ItemFeatures
from audiorouter.outcomes.table import OutcomeTable
from audiorouter.rl.rewards import ToolCost
from audiorouter.router.actions import ActionSpace
from audiorouter.router.policy import RouterNet, RouterPolicy, feature_stats
from audiorouter.study.context import StudyContext, TrialSpec
from audiorouter.study.methods.router import save_and_score, untrained_router
from audiorouter.study.methods.routing_tables import (
    action_values,
    feature_matrix,
    seeded_one_thread,
    training_table,
)


@dataclass(frozen=True)
class TableSettings:
    epochs: int = 2000  # most full-batch steps
    lr: float = 1e-2  # AdamW
    weight_decay: float = 1e-4
    patience: int = 50  # steps without an improvement of J by ``tolerance``: converged
    tolerance: float = 1e-5
    entropy: float = 0.02  # tau (module docstring): keeps the gradient of a committed choice alive

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.patience < 1:
            raise ValueError(f"TableSettings: epochs and patience must be >= 1, got {self.epochs}, {self.patience}")


def subset_probabilities(logits: torch.Tensor, actions: ActionSpace) -> torch.Tensor:
    """pi(s | x) over ``actions.subsets`` (N, n_subsets), as ``RouterPolicy`` reads the logits."""
    if actions.kind == "subsets":
        return torch.softmax(logits, dim=-1)
    per_tool = torch.log_softmax(logits.reshape(len(logits), len(actions.tools), 2), dim=-1)
    on = torch.tensor([[t in s for t in actions.tools] for s in actions.subsets], dtype=torch.float32)
    off_total = per_tool[:, :, 0].sum(dim=1, keepdim=True)
    return torch.exp(off_total + (per_tool[:, :, 1] - per_tool[:, :, 0]) @ on.T)


def fit_table_router(
    features: ItemFeatures, table: OutcomeTable, actions: ActionSpace, hidden_sizes: tuple[int, ...] = (64,),
    seed: int = 0, cost: ToolCost | None = None, settings: TableSettings | None = None,
    feature_spec: FeatureSpec | None = None,
) -> tuple[RouterPolicy, dict]:
    """A ``RouterNet`` maximising the expected reward over ``table``'s items (module
    docstring). Returns the policy and ``info``: steps run, whether J converged, the
    expected and greedy training accuracy, and the table's own best (its oracle)."""
    settings = settings or TableSettings()
    began = time.perf_counter()
    if not table.item_ids:
        raise ValueError("table router: the outcome table holds no training items")
    x = feature_matrix(features, list(table.item_ids), "training")
    rewards = torch.from_numpy(action_values(table, actions, cost))
    correct = torch.from_numpy(action_values(table, actions))
    inputs = torch.from_numpy(np.ascontiguousarray(x, np.float32))
    mean, std = feature_stats(x)
    with seeded_one_thread(seed):
        net = RouterNet(x.shape[1], actions.num_logits, hidden_sizes, mean, std)
        steps, converged = _maximise(net, inputs, rewards, actions, settings)
        net.eval()
        with torch.no_grad():
            probabilities = subset_probabilities(net(inputs), actions)
    policy = RouterPolicy(net, actions, feature_spec or FeatureSpec(), tuple(hidden_sizes))
    routed = actions.greedy(policy.logits(x))
    info = {
        "action_kind": actions.kind, "items": len(x), "steps": steps, "converged": converged,
        "objective": float((probabilities * rewards).sum(dim=1).mean()),
        "expected_train_accuracy": float((probabilities * correct).sum(dim=1).mean()),
        "train_accuracy": float(table.correct_for(routed).mean()),
        "train_mean_tools": float(np.mean([len(s) for s in routed])),
        "oracle_train_accuracy": float(correct.max(dim=1).values.mean()),
        "settings": asdict(settings), "hidden_sizes": list(hidden_sizes), "seed": seed,
        "fit_s": round(time.perf_counter() - began, 3),
    }
    return policy, info


def _maximise(net: RouterNet, inputs: torch.Tensor, rewards: torch.Tensor, actions: ActionSpace,
              settings: TableSettings) -> tuple[int, bool]:
    """Full-batch AdamW on -(J + tau H); (steps run, whether it stopped improving before the last)."""
    optimiser = torch.optim.AdamW(net.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    best, best_step = -np.inf, 0
    for step in range(1, settings.epochs + 1):
        probabilities = subset_probabilities(net(inputs), actions)
        entropy = -(probabilities * torch.log(probabilities.clamp_min(1e-12))).sum(dim=1).mean()
        objective = (probabilities * rewards).sum(dim=1).mean() + settings.entropy * entropy
        optimiser.zero_grad()
        (-objective).backward()
        optimiser.step()
        if objective.item() > best + settings.tolerance:
            best, best_step = objective.item(), step
        elif step - best_step >= settings.patience:
            return step, True
    return settings.epochs, False


def train_and_score(spec: TrialSpec, ctx: StudyContext, folder: Path) -> tuple[dict[str, list[bool]], dict]:
    """A ``table-router`` trial: fit on the trial's items' table, keep the policy, score every split."""
    if spec.train_size == 0:  # the network before training, as for the RL routers
        return save_and_score(*untrained_router(ctx, spec.seed), ctx, folder)
    cfg = ctx.config
    table, actions, info = training_table(spec, ctx)
    cost = ToolCost(cfg.train.tool_cost_weight, ctx.tool_latency_s)
    policy, fitted = fit_table_router(ctx.router_features(list(table.item_ids)), table, actions,
                                      tuple(cfg.router.hidden_sizes), spec.seed, cost, feature_spec=ctx.feature_spec)
    return save_and_score(policy, fitted | info, ctx, folder)
