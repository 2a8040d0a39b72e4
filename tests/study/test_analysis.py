"""Scaling-study analysis on hand-made trials whose answers are known exactly."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from audiorouter.evaluation.stats import wilson_interval
from audiorouter.study.analysis import AT_SMALLEST, NOT_REACHED, REACHED, analyse, items_needed
from audiorouter.study.report import render_markdown, write_study_outputs
from audiorouter.study.results import TrialResult

IDS = [f"item{k}" for k in range(10)]
TASKS = ["pitch"] * 5 + ["tempo"] * 5  # items 0-4 pitch, 5-9 tempo
LABEL = "reference reasoner"


def trial(method: str, size: int, seed: int, right: set[int]) -> TrialResult:
    return TrialResult(method, size, seed, list(IDS), list(TASKS), [k in right for k in range(10)])


@pytest.fixture(scope="module")
def trials() -> list[TrialResult]:
    """router: 0.5 at N=8, 0.7 at N=32 (pitch 1.0 -> 1.0, tempo 0.0 -> 0.4);
    internalise-scratch: 0.3 at 8, 0.4 at 64 (tempo 0.2 -> 0.4); supervised-router: 0.8 at 8 and 32."""
    out = []
    for seed in (0, 1):
        out += [trial("router-ppo", 8, seed, {0, 1, 2, 3, 4}), trial("router-ppo", 32, seed, {0, 1, 2, 3, 4, 5, 6}),
                trial("internalise-scratch", 8, seed, {0, 1, 5}),
                trial("internalise-scratch", 64, seed, {0, 1, 5, 6}),
                trial("supervised-router", 8, seed, {0, 1, 2, 3, 4, 5, 6, 7}),
                trial("supervised-router", 32, seed, {0, 1, 2, 3, 4, 5, 6, 7})]
    return out + [trial("no-tools", 0, 0, {0, 5})]


@pytest.fixture(scope="module")
def study(trials):
    return analyse(trials, LABEL, targets=(0.6, 0.9), resamples=400, seed=3)


def reach(study, method: str, target: float):
    return next(r for r in study.items_to_target if r.method == method and math.isclose(r.target, target))


def test_items_needed_interpolates_in_log_n():
    n, status = items_needed(np.array([[0.5, 0.7], [0.65, 0.9], [0.1, 0.2]]), np.array([8, 32]),
                             np.array([0.6, 0.6, 0.6]))
    assert n[0] == pytest.approx(16.0)
    assert n[1] == 8 and math.isinf(n[2])
    assert status.tolist() == [REACHED, AT_SMALLEST, NOT_REACHED]


def test_curves_and_constant_lines(study):
    router = study.curve("router-ppo")
    assert router.sizes == [8, 32] and router.means == pytest.approx([0.5, 0.7])
    first = router.points[0]  # both seeds agree, but 10 test items leave a wide band
    assert first.seeds == [0, 1] and first.low < 0.5 < first.high
    (no_tools,) = study.constants
    assert no_tools.method == "no-tools" and no_tools.accuracy == pytest.approx(0.2)
    assert (no_tools.low, no_tools.high) == pytest.approx(wilson_interval(2, 10))


def test_band_is_a_joint_bootstrap_percentile_band_even_with_one_seed():
    ids = [f"i{k}" for k in range(400)]
    make = lambda seed, k: TrialResult("router-ppo", 16, seed, ids, ["t"] * 400, [j < k for j in range(400)])  # noqa: E731
    point = analyse([make(0, 200)], LABEL, resamples=2000, seed=1).curve("router-ppo").points[0]
    half = 1.96 * math.sqrt(0.25 / 400)  # test items alone: binomial spread of 0.5 on 400 items
    assert point.mean == 0.5 and point.low == pytest.approx(0.5 - half, abs=0.01)
    assert point.high == pytest.approx(0.5 + half, abs=0.01)
    spread = analyse([make(0, 120), make(1, 200), make(2, 280)], LABEL, resamples=2000, seed=1)
    wide = spread.curve("router-ppo").points[0]
    assert wide.mean == pytest.approx(0.5) and wide.high - wide.low > 2 * (point.high - point.low)  # seeds add to it
    assert analyse([make(0, 200)], LABEL, resamples=0).curve("router-ppo").points[0].low is None


def test_router_items_to_target(study):
    assert reach(study, "router-ppo", 0.6).items == pytest.approx(16.0)
    plateau = study.targets[-1]
    assert (plateau.kind, plateau.fraction) == ("plateau", 0.95) and plateau.accuracy == pytest.approx(0.95 * 0.7)
    assert reach(study, "router-ppo", plateau.accuracy).items == pytest.approx(8 * 4 ** 0.825)


def test_method_that_never_reaches_gives_a_lower_bound(study):
    r = study.ratio("internalise-scratch", "0.600")
    assert r.n_method.items is None and r.n_method.status == NOT_REACHED and r.n_method.n_max == 64
    assert r.kind == "lower bound" and r.ratio == pytest.approx(64 / 16)
    # on 10 test items the router misses 0.6 in some resamples and the method reaches it in others:
    # the resamples bound the ratio on neither side
    assert r.interval.reached_method < 0.5 and r.interval.reached_ref < 1 and r.interval.undefined > 0
    assert r.interval.form == "no bound" and r.interval.low is None and r.interval.high is None


def test_reached_at_the_smallest_size_is_an_upper_bound(study):
    r = study.ratio("supervised-router", "0.600")
    assert r.n_method.status == AT_SMALLEST and r.n_method.items == 8
    assert r.kind == "upper bound" and r.ratio == pytest.approx(0.5)


def test_router_that_does_not_reach_leaves_the_ratio_undefined(study):
    r = study.ratio("supervised-router", "0.900")
    assert r.n_ref.status == NOT_REACHED and r.kind == "undefined" and r.ratio is None


def test_bootstrap_contains_the_point_ratio_and_is_deterministic():
    rng = np.random.default_rng(0)
    ids, tasks = [f"i{k}" for k in range(400)], ["t"] * 400
    curves = {"router-ppo": {8: 0.5, 32: 0.65, 128: 0.8}, "internalise-scratch": {8: 0.3, 32: 0.45, 128: 0.6, 512: 0.7}}
    trials = [TrialResult(m, n, s, ids, tasks, (rng.random(400) < p).tolist())
              for m, curve in curves.items() for n, p in curve.items() for s in range(3)]
    first = analyse(trials, LABEL, targets=(0.55,), resamples=300, seed=7)
    r = first.ratio("internalise-scratch", "0.550")
    assert r.kind == "estimate" and r.interval.form == "two-sided" and r.interval.resamples == 300
    assert r.interval.low <= r.ratio <= r.interval.high and r.interval.inside >= 0.975
    assert r.interval.reached_method == 1.0 and r.interval.reached_ref == 1.0 and r.interval.undefined == 0
    assert analyse(trials, LABEL, targets=(0.55,), resamples=300, seed=7).to_dict() == first.to_dict()
    other = analyse(trials, LABEL, targets=(0.55,), resamples=300, seed=8).ratio("internalise-scratch", "0.550")
    assert (other.interval.low, other.interval.high) != (r.interval.low, r.interval.high)


def test_bootstrap_copes_with_seeds_missing_at_some_sizes(trials):
    extra = [trial("router-ppo", 128, 5, set(range(9)))]  # seed 5 ran only at the largest size
    r = analyse(trials + extra, LABEL, targets=(0.6,), resamples=200, seed=0).ratio("supervised-router", "0.600")
    assert r.interval.resamples == 200 and r.interval.reached_ref is not None


def test_per_family_curves_and_ratio(study):
    pitch, tempo = study.families
    assert (pitch.family, pitch.items, tempo.family) == ("pitch", 5, "tempo")
    router = next(c for c in tempo.curves if c.method == "router-ppo")
    assert router.means == pytest.approx([0.0, 0.4])
    assert tempo.target.accuracy == pytest.approx(0.95 * 0.4)
    assert pitch.constants[0].accuracy == pytest.approx(0.2)
    scratch = next(r for r in tempo.ratios if r.method == "internalise-scratch")
    assert scratch.n_ref.items == pytest.approx(8 * 4 ** 0.95)
    assert scratch.n_method.items == pytest.approx(8 ** 1.9)
    assert scratch.kind == "estimate" and scratch.ratio == pytest.approx(2 ** 0.8)
    assert next(r for r in pitch.ratios if r.method == "internalise-scratch").kind == "lower bound"


def test_outputs_are_written(study, tmp_path):
    paths = write_study_outputs(study, tmp_path / "out")
    assert sorted(p.name for p in paths) == ["calls.png", "curves.png", "per_family.png", "study.json", "study.md"]
    assert all(p.exists() and p.stat().st_size > 0 for p in paths)
    assert json.loads((tmp_path / "out" / "study.json").read_text()) == study.to_dict()
    text = (tmp_path / "out" / "study.md").read_text()
    assert "not reached by N_max=64 (ratio ≥ 4.00)" in text and "undefined (router-ppo not reached" in text
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert len(headings) >= 6 and all(LABEL in h for h in headings)


def test_mixed_test_splits_are_rejected(trials):
    odd = TrialResult("router-ppo", 64, 0, [*IDS[:-1], "other"], list(TASKS), [True] * 10)
    with pytest.raises(ValueError, match="router-ppo/n64/seed0"):
        analyse([*trials, odd], LABEL)


def test_duplicate_trials_are_rejected(trials):
    with pytest.raises(ValueError, match="duplicate trial internalise-scratch/n8/seed1"):
        analyse([*trials, trial("internalise-scratch", 8, 1, set())], LABEL)


def test_missing_reference_method_is_rejected(trials):
    with pytest.raises(ValueError, match="router-group-relative"):
        analyse(trials, LABEL, ref_method="router-group-relative")


def test_validation_items_give_the_second_reading_of_the_ratio(trials):
    trials = [replace(t, info={"validation_items": 40}) if t.method == "internalise-scratch" else t for t in trials]
    study = analyse(trials, LABEL, targets=(0.6,), resamples=0)
    r = study.ratio("internalise-scratch", "0.600")
    assert study.curve("internalise-scratch").validation_items == 40 and study.curve("router-ppo").validation_items == 0
    assert r.kind == "lower bound" and r.ratio_counting_validation == pytest.approx((64 + 40) / 16)
    text = render_markdown(study)
    assert "internalise-scratch (40) chose their configuration and stopping step" in text
    assert "| ≥ 6.50 |" in text


def test_the_report_says_what_the_intervals_are_conditional_on(trials):
    """One pool shared by every seed leaves out which items it holds; seed pools put it in."""
    shared = render_markdown(analyse(trials, LABEL, targets=(0.6,), resamples=0))
    assert "one router pool shared by every seed" in shared and "conditional on that pool" in shared
    own = render_markdown(analyse(trials, LABEL, targets=(0.6,), resamples=0, seed_pools=True))
    assert "include which items a pool holds" in own and "conditional on that pool" not in own


def test_untrained_points_sit_beside_their_curves(trials):
    untrained = [trial("router-ppo", 0, seed, {0, 1, 2, 3, 4, 5, 6}) for seed in (0, 1)]  # 0.7 before training
    study = analyse(trials + untrained, LABEL, targets=(0.6,), resamples=0)
    router = study.curve("router-ppo")
    assert router.sizes == [8, 32] and router.untrained.mean == pytest.approx(0.7) and router.untrained.seeds == [0, 1]
    assert [c.method for c in study.constants] == ["no-tools"]  # an untrained point is not a constant line
    assert reach(study, "router-ppo", 0.6).met_untrained and not reach(study, "internalise-scratch", 0.6).met_untrained
    text = render_markdown(study)
    assert "| method | N=0 | N=8 | N=32 | N=64 |" in text and "| router-ppo | 0.700 [" in text
    assert "16; met untrained (N=0)" in text


def with_calls(trials: list[TrialResult], per_item: dict[str, int]) -> list[TrialResult]:
    """Each learned trial records per_item[method] reasoner calls per training item."""
    return [replace(t, info={"training_cost": {"reasoner_calls": per_item[t.method] * t.train_size, "tool_runs": 0}})
            if t.method in per_item else t for t in trials]


def test_calls_to_target_follow_items_to_target(trials):
    """router-ppo: 8 calls per item, reaching 0.6 at N=16 (128 calls); supervised-router:
    37 per item, at most its smallest size's 296; internalise-scratch costs none."""
    study = analyse(with_calls(trials, {"router-ppo": 8, "supervised-router": 37, "internalise-scratch": 0}), LABEL,
                    targets=(0.6, 0.9), resamples=200, seed=1)
    assert [p.calls for p in study.curve("router-ppo").points] == [64, 256]
    spent = {(c.method, c.target): c for c in study.calls_to_target}
    assert spent[("router-ppo", 0.6)].calls == pytest.approx(128)  # log-linear between (8, 64) and (32, 256)
    assert spent[("supervised-router", 0.6)].calls == pytest.approx(296) and spent[("supervised-router", 0.6)].status == AT_SMALLEST
    assert spent[("internalise-scratch", 0.6)].calls is None and spent[("internalise-scratch", 0.6)].calls_at_max == 0
    assert spent[("router-ppo", 0.9)].calls is None and spent[("router-ppo", 0.9)].calls_at_max == 256
    ratio = study.ratio("supervised-router", "0.600")
    assert ratio.kind == "upper bound" and ratio.calls_ratio == pytest.approx(296 / 128)
    assert ratio.calls_interval is not None and study.ratio("internalise-scratch", "0.600").calls_ratio == 0
    text = render_markdown(study)
    assert "## Training reasoner calls to reach each target" in text
    assert "| supervised-router (labels: cheapest right subset) | ≤ 296 (reached at the smallest size) |" in text
    assert "| supervised-router (labels: cheapest right subset) | a = 0.600 | ≤ 2.31 | " in text and "| internalise-scratch | a = 0.600 | 0 (no calls) |" in text
    assert "Not recorded" not in text


def test_calls_a_trial_did_not_record_are_said_to_be_unknown(trials):
    study = analyse(with_calls(trials, {"supervised-router": 37}), LABEL, targets=(0.6,), resamples=0)
    assert study.curve("router-ppo").calls is None
    assert {c.method: c.status for c in study.calls_to_target}["router-ppo"] == "not recorded"
    assert all(r.calls_ratio is None for r in study.ratios)
    assert "No calls ratio: router-ppo's or every other method's training calls are not recorded." in render_markdown(
        study)
