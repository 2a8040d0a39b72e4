"""Outcome tables and the policies read from them (Ray-free, with a test-double source)."""

from __future__ import annotations

import numpy as np
from outcome_helpers import TOOLS, standin_table

from audiorouter.evaluation.report import EvaluationReport, baseline_policies, policy_result
from audiorouter.outcomes.table import candidate_subsets


def test_candidate_subsets_cover_every_policy():
    subsets = candidate_subsets(TOOLS, [("b", "a")])
    assert subsets[0] == () and ("a", "b", "c") in subsets and ("a", "b") in subsets
    assert all(s == tuple(sorted(s)) for s in subsets)


def test_table_matches_the_source_and_oracle_picks_the_cheapest_correct_subset():
    table, allowed = standin_table()
    assert table.correct.shape == (4, len(table.subsets))
    assert list(table.correct_for([("a",), ("a",), ("c",), ()])) == [True, False, True, True]
    assert table.oracle(allowed) == [("a",), ("b",), ("c",), ()]


def test_baselines_and_router_rows():
    table, allowed = standin_table()
    rows = baseline_policies(table, TOOLS, allowed)
    by_name = {r.name: r for r in rows}
    assert by_name["no tools"].accuracy == 0.25
    assert by_name["oracle routing"].accuracy == 1.0
    assert by_name["best single tool"].accuracy == 0.5 and by_name["best single tool"].note == "a"  # a tie: the first listed
    assert by_name["all tools"].tools_per_item == 3.0
    router = policy_result("trained router", table, [("a",), ("b",), ("c",), ()], TOOLS)
    assert router.accuracy == 1.0 and router.per_task == {"x": 1.0, "y": 1.0, "z": 1.0}
    assert np.isclose(router.tool_rate["a"], 0.25)
    report = EvaluationReport("test", 4, "test double", rows + [router])
    text = report.render()
    assert "trained router" in text and "best single tool (" in text
    assert '"accuracy": 1.0' in report.to_json()
