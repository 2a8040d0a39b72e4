"""What the study may say about a data-efficiency ratio, on curves built by hand for each
case: both reach the target inside their grids, the router at its smallest size, the
method never, neither of them, and the method at its smallest size."""

from __future__ import annotations

import pytest

from audiorouter.study.analysis import analyse
from audiorouter.study.report import render_markdown
from audiorouter.study.results import TrialResult

ITEMS = 400  # 0.025 binomial spread at 0.5: the target 0.6 stays 4 spreads from every point
IDS, TASKS = [f"i{k}" for k in range(ITEMS)], ["t"] * ITEMS
LABEL = "reference reasoner"
METHOD = "internalise-scratch"


def trials(method: str, curve: dict[int, float], seeds: int = 3) -> list[TrialResult]:
    """Every seed right on the first ``accuracy * ITEMS`` items (nested across sizes)."""
    return [TrialResult(method, size, seed, IDS, TASKS, [k < round(acc * ITEMS) for k in range(ITEMS)])
            for size, acc in curve.items() for seed in range(seeds)]


def statement(router: dict[int, float], method: dict[int, float]):
    """(the ratio estimate at a = 0.6, its row in study.md)."""
    line = TrialResult("no-tools", 0, 0, IDS, TASKS, [k < 80 for k in range(ITEMS)])  # 0.2: far below 0.6
    study = analyse(trials("router-ppo", router) + trials(METHOD, method) + [line], LABEL, targets=(0.6,),
                    resamples=400, seed=5)
    ratio = study.ratio(METHOD, "0.600")
    row = next(r for r in render_markdown(study).splitlines() if r.startswith(f"| {METHOD} | a = 0.600 |"))
    return ratio, row


def test_both_inside_their_grids_give_a_two_sided_interval():
    r, row = statement({1: 0.3, 4: 0.5, 16: 0.7, 64: 0.9}, {8: 0.3, 64: 0.5, 512: 0.7, 4096: 0.8})
    assert r.kind == "estimate" and r.ratio == pytest.approx(64 * 8**0.5 / 8)
    assert r.interval.form == "two-sided" and r.interval.inside == 1.0 and r.interval.undefined == 0
    assert r.interval.low < r.ratio < r.interval.high
    assert f"| [{r.interval.low:.2f}, {r.interval.high:.2f}] | 100.0% | 0.0% | 100% / 100% |" in row


def test_router_at_its_smallest_size_gives_only_a_lower_bound():
    r, row = statement({1: 0.7, 4: 0.8, 16: 0.9}, {8: 0.3, 64: 0.5, 512: 0.7})
    assert r.kind == "lower bound" and r.n_ref.status == "reached at the smallest size"
    # N_router <= 1 in every resample, so N_method / N_router >= N_method: a lower bound only
    assert r.interval.form == "lower bound" and r.interval.high is None and r.interval.inside == 0
    # the method needs more than 64 items in every resample (0.5 there is 4 spreads below 0.6)
    assert 64 < r.interval.low <= 64 * 8**0.5
    assert f"| ≥ {r.interval.low:.2f} (one-sided; " in row and "| 0.0% | 0.0% |" in row
    assert "≤ 1.0 (reached at the smallest size)" in row


def test_method_never_reaching_gives_a_lower_bound_from_its_largest_size():
    r, row = statement({1: 0.3, 4: 0.5, 16: 0.7}, {8: 0.3, 64: 0.4, 512: 0.5})
    assert r.kind == "lower bound" and r.n_method.items is None
    # N_method > 512 and the router needs between 4 and 16 items in every resample
    assert r.interval.form == "lower bound" and 512 / 16 < r.interval.low < 512 / 8
    assert r.interval.reached_method == 0 and r.interval.reached_ref == 1
    assert "not reached by N_max=512 (ratio ≥ 64.00)" in row and "(one-sided; " in row


def test_neither_reaching_bounds_nothing():
    r, row = statement({1: 0.3, 4: 0.4, 16: 0.5}, {8: 0.3, 64: 0.4, 512: 0.5})
    assert r.kind == "undefined" and r.ratio is None
    assert r.interval.form == "no bound" and r.interval.undefined == 1.0
    assert "undefined (router-ppo not reached by N_max=16)" in row and "| no bound | 0.0% | 100.0% | 0% / 0% |" in row


def test_method_at_its_smallest_size_gives_only_an_upper_bound():
    r, row = statement({1: 0.3, 4: 0.5, 16: 0.7}, {8: 0.7, 64: 0.8})
    assert r.kind == "upper bound" and r.ratio == pytest.approx(8 / 8)
    assert r.interval.form == "upper bound" and r.interval.low is None
    assert 8 / 16 < r.interval.high < 8 / 4  # N_method <= 8, the router needs between 4 and 16
    assert f"| ≤ {r.interval.high:.2f} (one-sided; " in row
