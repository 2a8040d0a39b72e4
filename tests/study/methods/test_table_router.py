"""table-router: supervised routing with the RL objective on the whole outcome table.
On hand-built tables (grouped_tables) it reaches the table's best expected accuracy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from audiorouter.rl.rewards import ToolCost
from audiorouter.router.policy import RouterPolicy
from audiorouter.study.methods.table_router import fit_table_router, subset_probabilities
from tests.study.methods.grouped_tables import RATES, actions_of, best_per_group, grouped_table


@pytest.mark.parametrize("kind", ["subsets", "per_tool"])
def test_it_reaches_the_tables_best_expected_accuracy(kind):
    actions = actions_of(kind)
    features, table = grouped_table(RATES, 40, actions)
    policy, info = fit_table_router(features, table, actions, hidden_sizes=(32,), seed=0)
    routed = [d.tools for d in policy.route(features.matrix(), features.item_ids)]
    assert info["converged"]
    assert info["train_accuracy"] == pytest.approx(best_per_group(RATES, 40))
    assert float(table.correct_for(routed).mean()) == pytest.approx(best_per_group(RATES, 40))
    assert info["expected_train_accuracy"] == pytest.approx(best_per_group(RATES, 40), abs=0.02)
    by_group = {t: {tuple(sorted(s)) for s, tt in zip(routed, table.tasks, strict=True) if tt == t} for t in RATES}
    assert by_group == {"pitch": {("a",)}, "tempo": {("b",)}, "words": {()}}


def test_a_tool_cost_moves_a_near_tie_to_fewer_tools():
    actions = actions_of("subsets")
    rates = {"g": {("a",): 0.60, ("a", "b"): 0.65, (): 0.1}}
    features, table = grouped_table(rates, 40, actions)
    free, _ = fit_table_router(features, table, actions, hidden_sizes=(16,), seed=0)
    costly, info = fit_table_router(features, table, actions, hidden_sizes=(16,), seed=0,
                                    cost=ToolCost(0.2, {"a": 0.5, "b": 0.5, "c": 0.5}))
    x = features.matrix()
    assert {d.tools for d in free.route(x, features.item_ids)} == {("a", "b")}
    assert {d.tools for d in costly.route(x, features.item_ids)} == {("a",)}  # 0.65 - 0.2 < 0.60 - 0.1
    assert info["objective"] == pytest.approx(0.60 - 0.1, abs=0.02)


@pytest.mark.parametrize("kind", ["subsets", "per_tool"])
def test_its_probabilities_are_the_policys(kind):
    """pi(s|x) the objective weighs is what RouterPolicy reports as the log-probability."""
    actions = actions_of(kind)
    features, table = grouped_table(RATES, 5, actions)
    policy, _ = fit_table_router(features, table, actions, hidden_sizes=(8,), seed=1)
    logits = policy.logits(features.matrix())
    probabilities = subset_probabilities(torch.as_tensor(logits), actions).numpy()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    for row, decision in zip(probabilities, policy.route(features.matrix(), features.item_ids), strict=True):
        assert np.log(row[actions.subsets.index(decision.tools)]) == pytest.approx(decision.log_prob, abs=1e-4)


def test_same_seed_same_router_and_it_saves_as_a_router_policy(tmp_path):
    actions = actions_of("subsets")
    features, table = grouped_table(RATES, 10, actions)
    first, _ = fit_table_router(features, table, actions, hidden_sizes=(8,), seed=3)
    second, _ = fit_table_router(features, table, actions, hidden_sizes=(8,), seed=3)
    np.testing.assert_array_equal(first.logits(features.matrix()), second.logits(features.matrix()))
    loaded = RouterPolicy.load(first.save(tmp_path / "policy"))
    np.testing.assert_allclose(loaded.logits(features.matrix()), first.logits(features.matrix()), rtol=1e-6)


def test_an_empty_table_is_refused():
    actions = actions_of("subsets")
    features, table = grouped_table(RATES, 2, actions)
    empty = type(table)([], [], table.subsets, table.correct[:0])
    with pytest.raises(ValueError, match="no training items"):
        fit_table_router(features, empty, actions)
