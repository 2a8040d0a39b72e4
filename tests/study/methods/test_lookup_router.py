"""lookup-router: each task group's best subset, test items assigned by the question."""

from __future__ import annotations

import numpy as np
import pytest

from audiorouter.rl.rewards import ToolCost
from audiorouter.study.methods.lookup_router import LookupRouter, best_subset, fit_lookup_router
from tests.study.methods.grouped_tables import RATES, actions_of, best_per_group, grouped_table


@pytest.mark.parametrize("kind", ["subsets", "per_tool"])
def test_each_group_gets_its_best_subset_and_held_out_items_their_groups(kind):
    actions = actions_of(kind)
    features, table = grouped_table(RATES, 40, actions, seed=0, noise=0.02)
    router, info = fit_lookup_router(features, table, actions)
    assert dict(zip(router.groups, router.chosen, strict=True)) == {"pitch": ("a",), "tempo": ("b",), "words": ()}
    assert info["groups"]["pitch"] == {"items": 40, "subset": "a"}
    assert info["train_accuracy"] == pytest.approx(best_per_group(RATES, 40))
    # held-out items of the same groups (same directions: same seed), other ids and outcomes
    test_features, test_table = grouped_table(RATES, 20, actions, seed=0, prefix="test", noise=0.02)
    routed = [d.tools for d in router.route(test_features.matrix(), test_features.item_ids)]
    expected = [dict(zip(router.groups, router.chosen, strict=True))[t] for t in test_table.tasks]
    assert routed == expected


def test_ties_go_to_fewer_tools_then_the_action_spaces_order():
    actions = actions_of("subsets")
    values = np.zeros((4, len(actions.subsets)), dtype=np.float32)
    values[:, actions.subsets.index(("a", "b"))] = 1.0
    values[:, actions.subsets.index(("c",))] = 1.0
    values[:, actions.subsets.index(("b",))] = 1.0
    assert best_subset(values, actions) == ("b",)
    assert best_subset(np.zeros_like(values), actions) == ()


def test_a_tool_cost_is_subtracted():
    actions = actions_of("subsets")
    rates = {"g": {("a", "b"): 0.65, ("a",): 0.6}}
    features, table = grouped_table(rates, 20, actions)
    assert fit_lookup_router(features, table, actions)[0].chosen == [("a", "b")]
    costly, _ = fit_lookup_router(features, table, actions, ToolCost(0.2, {"a": 0.5, "b": 0.5, "c": 0.5}))
    assert costly.chosen == [("a",)]


def test_without_task_labels_every_item_gets_the_overall_best(tmp_path):
    actions = actions_of("subsets")
    features, table = grouped_table(RATES, 10, actions)
    unlabelled = type(table)(table.item_ids, [""] * len(table.item_ids), table.subsets, table.correct)
    router, info = fit_lookup_router(features, unlabelled, actions)
    assert router.groups == [] and info["groups"] == {}
    assert {d.tools for d in router.route(features.matrix(), features.item_ids)} == {router.fallback}
    assert router.fallback == best_subset(table.correct[:, [table.column(s) for s in actions.subsets]].astype(float),
                                          actions)


def test_it_saves_and_loads(tmp_path):
    actions = actions_of("per_tool")
    features, table = grouped_table(RATES, 10, actions)
    router, _ = fit_lookup_router(features, table, actions)
    loaded = LookupRouter.load(router.save(tmp_path / "policy"))
    x = features.matrix()
    assert [d.tools for d in loaded.route(x, features.item_ids)] == [d.tools for d in router.route(x, features.item_ids)]
    assert loaded.actions == actions
