"""A small outcome table from the test-double source, shared by the tests of the
evaluation's baselines and of the study's constant lines (Ray-free)."""

from __future__ import annotations

from audiorouter.outcomes.table import OutcomeTable, Subset, build_outcome_table, candidate_subsets
from audiorouter.testing.standin import ToolMatchingStandIn

TOOLS = ("a", "b", "c")


def standin_table() -> tuple[OutcomeTable, list[Subset]]:
    """Four items: three need one tool each, one is right without any; every single tool
    therefore answers 2 of 4 (a tie)."""
    needs = {"i0": "a", "i1": "b", "i2": "c", "i3": None}
    source = ToolMatchingStandIn(needs, {"i0": False, "i1": False, "i2": False, "i3": True})
    allowed = [(), ("a",), ("b",), ("c",), ("a", "b"), ("a", "c"), ("b", "c")]
    subsets = candidate_subsets(TOOLS, allowed)
    table = build_outcome_table(source, list(needs), ["x", "y", "y", "z"], subsets, chunk=5, progress=False)
    return table, allowed
