"""The calls axis: what a trial's training cost, recorded or read from older records."""

from __future__ import annotations

import math

import numpy as np
import pytest

from audiorouter.study.costs import calls_at, training_calls
from audiorouter.study.results import TrialResult


def trial(method: str, size: int, info: dict) -> TrialResult:
    return TrialResult(method, size, 0, ["i"], ["t"], [True], info=info)


def test_a_recorded_cost_is_read_as_recorded():
    assert training_calls(trial("router-ppo", 8, {"training_cost": {"reasoner_calls": 61, "tool_runs": 9}})) == 61


@pytest.mark.parametrize(("method", "size", "info", "calls"), [
    ("internalise-reasoner", 64, {"validation_items": 600}, 664.0),  # no-evidence scores of both
    ("internalise-pretrained", 64, {"validation_items": 600}, 0.0),
    ("tools-supervised", 64, {"validation_items": 600}, 0.0),
    ("supervised-router", 32, {"source": {"pairs": 1216.0, "reasoner_requests": 1216.0}}, 1216.0),
    ("router-ppo", 32, {"source": {}}, None),  # its env runner's copy of the source counted
    ("router-ppo", 0, {"untrained": True}, 0.0),
    ("no-tools", 0, {}, 0.0),
    ("some-old-method", 8, {}, None),
])
def test_older_results_give_what_their_records_fix(method, size, info, calls):
    assert training_calls(trial(method, size, info)) == calls


def test_calls_between_sizes_are_log_linear_and_the_ends_are_kept():
    sizes, calls = [8, 32], [64, 256]
    got = calls_at(np.array([8, 16, 32, 0, math.inf]), sizes, calls)
    assert got[:3] == pytest.approx([64, 128, 256]) and got[3] == 0 and math.isinf(got[4])
    assert calls_at(16, sizes, [0, 0]).tolist() == [0.0]
    assert calls_at(16, sizes, [0, 100]) == pytest.approx([50.0])  # some size costs none: linear in log N
