"""Every evaluation policy, the bootstrap and the report files on a tiny stand-in table."""

from __future__ import annotations

import json

import numpy as np
import pytest

from audiorouter.evaluation.evaluate import EvalSettings, score_policies, write_outputs
from audiorouter.evaluation.report import EvaluationReport, ItemGroups
from audiorouter.evaluation.stats import paired_bootstrap, random_matched
from audiorouter.outcomes.table import build_outcome_table, candidate_subsets
from audiorouter.testing.standin import ToolMatchingStandIn

TOOLS = ("a", "b", "c")
NEEDS = {f"i{k}": ("a", "b", "c", None)[k % 4] for k in range(40)}
WITHOUT = {i: need is None for i, need in NEEDS.items()}
ALLOWED = [(), ("a",), ("b",), ("c",), ("a", "b"), ("a", "c"), ("b", "c")]


def evaluated(routed=None, training_free=None):
    ids = list(NEEDS)
    tasks = [f"task{k % 2}" for k in range(len(ids))]
    routed = routed or [(n,) if n else () for n in NEEDS.values()]  # a perfect router
    asked = ALLOWED + routed + [s for chosen in (training_free or {}).values() for s in chosen]
    table = build_outcome_table(ToolMatchingStandIn(NEEDS, WITHOUT), ids, tasks,
                                candidate_subsets(TOOLS, asked), progress=False)
    groups = ItemGroups([f"cat{k % 3}" for k in range(len(ids))], ["easy" if k < 20 else "hard" for k in range(len(ids))],
                        [f"sub{k % 2}" for k in range(len(ids))])
    tool_ms = np.tile([10.0, 20.0, 30.0], (len(ids), 1))
    policies, comparisons = score_policies(table, routed, TOOLS, ALLOWED, groups, tool_ms,
                                           EvalSettings(resamples=500, random_draws=16), training_free)
    return EvaluationReport("test", len(ids), "stand-in", policies, comparisons), tasks, routed


def test_every_policy_is_scored():
    report, _, _ = evaluated()
    acc = {p.name: p.accuracy for p in report.policies}
    assert acc["no tools"] == 0.25 and acc["trained router"] == 1.0 and acc["oracle routing"] == 1.0
    assert acc["all tools"] == 0.0  # two distractors with every needed tool
    assert acc["only a"] == 0.5 and acc["only b"] == 0.5 and acc["only c"] == 0.5
    assert report.policy("best single tool").note == "a"
    random = report.policy("random routing")
    assert random.tool_rate == report.policy("trained router").tool_rate  # matched tool rate
    assert 0.25 < random.accuracy < 0.7
    router = report.policy("trained router")
    assert router.tools_per_item == 0.75 and router.tool_ms_per_item == pytest.approx((10 + 20 + 30) / 4)
    assert set(router.per_category) == {"cat0", "cat1", "cat2"} and set(router.per_difficulty) == {"easy", "hard"}
    assert set(router.per_task) == {"task0", "task1"} and set(router.per_sub_category) == {"sub0", "sub1"}
    # sub0: even items, needing a or c; sub1: odd items, half needing b, half no tool
    assert report.policy("no tools").per_sub_category == {"sub0": 0.0, "sub1": 0.5}


def test_a_training_free_router_is_a_row_and_a_comparison():
    """An LM router's prompted self: scored beside the constant lines, compared with the router."""
    # both of a and b where either is needed (one distractor is tolerated), nothing for c
    prompted = [("a", "b") if n in ("a", "b") else () for n in NEEDS.values()]
    report, _, _ = evaluated(training_free={"prompted router": prompted})
    names = [p.name for p in report.policies]
    assert names.index("best single tool") < names.index("prompted router") < names.index("trained router")
    row = report.policy("prompted router")
    assert row.accuracy == pytest.approx(0.75) and row.tools_per_item == pytest.approx(1.0)
    by = {c.baseline: c for c in report.comparisons}
    assert by["prompted router"].delta == pytest.approx(0.25)


def test_paired_bootstrap_intervals():
    report, _, _ = evaluated()
    by = {c.baseline.split(" (")[0]: c for c in report.comparisons}
    assert by["no tools"].delta == 0.75 and by["no tools"].ci_low > 0.5 and by["no tools"].p_value < 0.01
    assert by["oracle routing"].delta == 0 and by["oracle routing"].p_value == 1.0
    same = paired_bootstrap(np.ones(10), np.ones(10), "same")
    assert same.ci_low == same.ci_high == 0.0
    close = paired_bootstrap(np.array([1, 0] * 10), np.array([0, 1] * 10), "flip", seed=1)
    assert close.ci_low < 0 < close.ci_high and close.p_value > 0.5


def test_random_matched_keeps_the_routers_decisions():
    routed = [("a",), (), ("b", "c"), ()]
    for draw in random_matched(routed, draws=5, seed=3):
        assert sorted(draw) == sorted(routed)


def test_report_files(tmp_path):
    report, tasks, routed = evaluated()
    paths = write_outputs(report, tasks, routed, TOOLS, tmp_path)
    assert all(p.exists() and p.stat().st_size > 0 for p in paths)
    text = (tmp_path / "report.txt").read_text()
    for needle in ("random routing", "paired bootstrap", "accuracy by task family", "accuracy by category",
                   "accuracy by sub-category", "accuracy by difficulty", "only c"):
        assert needle in text
    data = json.loads((tmp_path / "report.json").read_text())
    assert len(data["comparisons"]) == 5 and data["policies"][0]["per_difficulty"]
