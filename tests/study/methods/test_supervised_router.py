"""The supervised router: oracle labels, imitation on held-out items, determinism, save/load.

Tasks are synthetic: ``ToolMatchingStandIn`` decides outcomes and ``ItemFeatures`` are
built from numpy arrays (an item's first columns announce which tool it needs), so no
model is loaded and every fit takes well under a second.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from audiorouter.features import ItemFeatures
from audiorouter.outcomes.table import OutcomeTable, build_outcome_table
from audiorouter.router.actions import ActionSpace
from audiorouter.router.policy import RouterPolicy
from audiorouter.study.methods.supervised_router import (
    SupervisedSettings,
    fit_supervised_router,
    oracle_labels,
)
from audiorouter.testing.standin import ToolMatchingStandIn

TOOLS = ("a", "b", "c")
NEEDS = ("a", "b", "c", None)  # kind k of an item needs tool NEEDS[k]; None: no tool helps
ALL_SUBSETS = ActionSpace(TOOLS, "per_tool").subsets  # every subset: the columns of each table
FAST = SupervisedSettings(epochs=60)


def actions_of(kind: str) -> ActionSpace:
    return ActionSpace(TOOLS, kind, 2 if kind == "subsets" else 0)


def task(n: int, seed: int, prefix: str) -> tuple[ItemFeatures, OutcomeTable]:
    """n items of the 4 kinds; right without tools with probability 0.25; the first 4
    feature columns announce the kind (one-hot plus noise), 3 more are pure noise."""
    rng = np.random.default_rng(seed)
    ids = [f"{prefix}-{k:03d}" for k in range(n)]
    kinds = rng.integers(len(NEEDS), size=n)
    question = (np.eye(len(NEEDS))[kinds] + 0.1 * rng.normal(size=(n, len(NEEDS)))).astype(np.float32)
    audio = rng.normal(size=(n, 3)).astype(np.float32)
    standin = ToolMatchingStandIn({i: NEEDS[k] for i, k in zip(ids, kinds, strict=True)},
                                  {i: bool(rng.random() < 0.25) for i in ids})
    table = build_outcome_table(standin, ids, [f"needs-{NEEDS[k]}" for k in kinds], ALL_SUBSETS, progress=False)
    return ItemFeatures(ids, question, audio), table


@pytest.fixture(scope="module")
def splits():
    return task(160, 0, "train"), task(60, 1, "val"), task(200, 2, "test")


def routed_accuracy(policy: RouterPolicy, features: ItemFeatures, table: OutcomeTable) -> float:
    decisions = policy.route(features.matrix(), features.item_ids)
    assert [d.item_id for d in decisions] == table.item_ids
    return float(table.correct_for([d.tools for d in decisions]).mean())


@pytest.mark.parametrize("kind", ["subsets", "per_tool"])
def test_labels_are_the_tables_oracle(splits, kind):
    (_, table), _, _ = splits
    actions = actions_of(kind)
    labels = oracle_labels(table, actions)
    assert labels.subsets == table.oracle(actions.subsets)
    assert [tuple(sorted(actions.to_tools(a))) for a in labels.actions] == labels.subsets
    assert labels.actions.shape == ((160,) if kind == "subsets" else (160, 3))
    columns = [table.column(s) for s in actions.subsets]
    np.testing.assert_array_equal(labels.helped, table.correct[:, columns].any(axis=1))
    assert sum(labels.counts().values()) == 160


def test_a_missing_subset_column_is_named():
    features, table = task(8, 0, "x")
    narrow = OutcomeTable(table.item_ids, table.tasks, [(), ("a",), ("b",), ("c",)], table.correct[:, :4])
    with pytest.raises(ValueError, match=r"\('a', 'b'\)"):
        oracle_labels(narrow, actions_of("subsets"))
    with pytest.raises(ValueError, match="no column for subsets"):
        fit_supervised_router(features, narrow, actions_of("per_tool"))
    with pytest.raises(ValueError, match="no router features for 1 training items"):
        fit_supervised_router(features.select(table.item_ids[1:]), table, actions_of("subsets"))


@pytest.mark.parametrize("kind", ["subsets", "per_tool"])
def test_it_reaches_the_oracle_on_held_out_items(splits, kind):
    (train_x, train_t), validation, (test_x, test_t) = splits
    actions = actions_of(kind)
    policy, info = fit_supervised_router(train_x, train_t, actions, hidden_sizes=(32,), seed=0,
                                         settings=FAST, validation=validation)
    oracle = float(test_t.correct_for(test_t.oracle(actions.subsets)).mean())
    assert routed_accuracy(policy, test_x, test_t) >= 0.9 * oracle
    assert info["epochs"] >= info["best_epoch"] >= 1 and info["val_accuracy"] is not None
    hopeless = int((~oracle_labels(train_t, actions).helped).sum())
    assert hopeless > 0 and info["dropped_no_help"] == hopeless
    assert info["labelled"] + hopeless == 160 == sum(info["labels"].values()) + hopeless
    assert set(info["labels"]) <= {"none", "a", "b", "c"} and info["train_loss"] < 1.0


def test_same_seed_same_router_and_it_saves_and_loads(splits, tmp_path):
    (train_x, train_t), _, (test_x, _) = splits
    actions = actions_of("per_tool")
    first, info = fit_supervised_router(train_x, train_t, actions, (16,), seed=3, settings=FAST)
    again, _ = fit_supervised_router(train_x, train_t, actions, (16,), seed=3, settings=FAST)
    other, _ = fit_supervised_router(train_x, train_t, actions, (16,), seed=4, settings=FAST)
    for key, value in first.net.state_dict().items():
        assert torch.equal(value, again.net.state_dict()[key])
    assert not torch.equal(first.net.body[0].weight, other.net.body[0].weight)
    assert info["epochs"] == info["best_epoch"] == FAST.epochs and info["val_accuracy"] is None
    np.testing.assert_allclose(first.net.feature_mean.numpy(), train_x.matrix().mean(axis=0), rtol=1e-5, atol=1e-6)

    loaded = RouterPolicy.load(first.save(tmp_path / "policy"))
    x = test_x.matrix()
    assert loaded.route(x, test_x.item_ids) == first.route(x, test_x.item_ids)
    np.testing.assert_array_equal(loaded.logits(x), first.logits(x))


def test_dropping_items_no_tool_helps_keeps_the_tool_that_helps_the_rest():
    """One kind of item (identical features): 40% hopeless, 25% right without tools, 35%
    need tool a. Kept, the hopeless items outvote a ("none" 65%: 25% right); dropped, the
    router learns a, which is right on all but the hopeless items (60%, the oracle)."""
    ids = [f"item-{k:02d}" for k in range(20)]
    groups = [(None, False)] * 8 + [("a", True)] * 5 + [("a", False)] * 7  # (needs, right without)
    standin = ToolMatchingStandIn({i: g[0] for i, g in zip(ids, groups, strict=True)},
                                  {i: g[1] for i, g in zip(ids, groups, strict=True)})
    table = build_outcome_table(standin, ids, ["x"] * 20, ALL_SUBSETS, progress=False)
    features = ItemFeatures(ids, np.ones((20, 2), np.float32), np.zeros((20, 1), np.float32))
    actions = actions_of("subsets")
    dropped, info = fit_supervised_router(features, table, actions, (8,), seed=0, settings=FAST)
    kept, kept_info = fit_supervised_router(features, table, actions, (8,), seed=0,
                                            settings=SupervisedSettings(epochs=60, drop_no_help=False))
    assert info["dropped_no_help"] == 8 and info["labels"] == {"none": 5, "a": 7}
    assert kept_info["dropped_no_help"] == 0 and kept_info["labels"] == {"none": 13, "a": 7}
    assert routed_accuracy(dropped, features, table) == pytest.approx(0.6)
    assert routed_accuracy(kept, features, table) == pytest.approx(0.25)


def test_a_few_hundred_items_of_real_width_train_every_epoch():
    rng = np.random.default_rng(0)
    ids = [f"item-{k:03d}" for k in range(300)]
    standin = ToolMatchingStandIn({i: NEEDS[k % 4] for k, i in enumerate(ids)}, {i: False for i in ids})
    table = build_outcome_table(standin, ids, ["x"] * 300, ALL_SUBSETS, progress=False)
    features = ItemFeatures(ids, rng.normal(size=(300, 384)).astype(np.float32),
                            rng.normal(size=(300, 97)).astype(np.float32))
    actions = actions_of("subsets")
    # a process's first torch optimiser imports torch._dynamo (seconds, once): not the fit's cost
    fit_supervised_router(features.select(ids[:4]), table_rows(table, 4), actions, (4,), settings=SupervisedSettings(epochs=1))
    _, info = fit_supervised_router(features, table, actions, (64,), seed=0)
    assert info["epochs"] == SupervisedSettings().epochs  # no validation: every epoch runs
    assert info["fit_s"] > 0  # recorded (its speed is a benchmark's business, not a test's: no wall-clock bound)


def table_rows(table: OutcomeTable, n: int) -> OutcomeTable:
    return OutcomeTable(table.item_ids[:n], table.tasks[:n], table.subsets, table.correct[:n])
