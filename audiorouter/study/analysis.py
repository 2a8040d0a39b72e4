"""Scaling-study analysis: accuracy against training-set size, the items each method
needs to reach an accuracy target, and data-efficiency ratios against the router.

Definitions (stated again in ``study.json`` and ``study.md``):

* **targets** (study.targets) — the training-free line (best of no tools, all tools,
  best single tool) plus 25/50/75% of its gap to oracle routing, configured absolute
  targets, and ``plateau_fraction`` of the reference router's plateau (its mean accuracy
  at its largest size). A target the line already meets is reported as "met without
  training", with no ratio.
* **band** — at each training size, the 95% percentile band of the mean accuracy over a
  bootstrap of seeds and test items jointly (study.bootstrap); none without resamples.
* **constant lines** (train_size 0 of a method that learns nothing) — accuracy with a
  95% Wilson interval over items.
* **untrained point** (train_size 0 of a learned method) — the method before training,
  shown beside its curve (mean over seeds, 95% Wilson interval over the pooled outcomes);
  N(a) is read from the trained sizes, and a target the untrained point already meets
  is marked in the tables.
* **N_method(a)** — the first training size at which the mean curve is >= a, linearly
  interpolated in log N from the size before it (m_lo < a <= m_hi)::

      log N = log N_lo + (a - m_lo) / (m_hi - m_lo) * (log N_hi - log N_lo)

  If the smallest size already reaches a, N is at most that size ("reached at the
  smallest size"); if no size reaches a: "not reached by N_max".
* **ratio** — N_method(a) / N_ref(a): a point estimate from the mean curves (with its
  kind, ``ratio_kind``) and a 95% statement from the bootstrap, two-sided only where
  both N are interpolated inside their grids in >= 97.5% of resamples, otherwise a
  one-sided bound (study.bootstrap).

* **C_method(a)** — the training reasoner calls at N_method(a) (study.costs), and the
  ratio C_method(a) / C_ref(a) with the bootstrap's N bounds mapped through each C(N).

Imports: evaluation.stats, study.costs, study.methods (their names), study.results, study.targets, study.bootstrap.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from audiorouter.evaluation.stats import wilson_interval
from audiorouter.study.bootstrap import (
    AT_SMALLEST,
    NOT_REACHED,
    REACHED,
    RatioInterval,
    Resamples,
    band,
    items_needed,
    n_bounds,
    ratio_bounds,
    resample,
    summarise_ratio,
)
from audiorouter.study.costs import NOT_RECORDED, calls_at, mean_calls
from audiorouter.study.methods import method_names
from audiorouter.study.results import TrialResult
from audiorouter.study.targets import GAP, Line, Target, study_targets, training_free_line

__all__ = ["AT_SMALLEST", "NOT_REACHED", "REACHED", "analyse", "items_needed", "ratio_kind"]

BAND = ("95% percentile band of the mean accuracy over a bootstrap of seeds and test items jointly; "
        "none without resamples")
PLATEAU = "reference router's mean accuracy at its largest training size"
LINE = ("training-free line: the best of no tools, all tools, the best single tool and, where the study has "
        "router-lm, the prompted router (no labelled items)")
CALLS = ("reasoner calls a trial's training consumed: distinct (item, evidence) requests, what they cost with an "
         "empty memo (N x subsets for the table-trained routers, what its episodes chose for an RL router, one "
         "per training and validation item for a head that reads the reasoner, none for the model-free heads); "
         "C(a) is read at N(a), log-linearly between sizes, from the mean over seeds")
SHARED_POOL_RULE = ("one router pool shared by every seed: the seeds draw their router sets from the same items, so "
               "the bands and intervals are conditional on that pool (which items it holds is not resampled)")
SEED_POOLS_RULE = ("each seed's router pool its own (study.seed_pools): the seeds' spread, and so the bands and "
              "intervals, include which items a pool holds")
BOOTSTRAP_RULE = ("bootstrap: test items drawn once per resample for every method (paired), each method's "
                  "seeds drawn as whole trajectories; per resample N is exact inside the grid, <= N_min when "
                  "reached at the smallest size, > N_max when not reached, so the ratio is an interval; "
                  "two-sided 95% interval only when both N are inside their grids in >= 97.5% of resamples, "
                  "else a one-sided bound with the share of resamples behind it; 'undefined' = share of "
                  "resamples that bound the ratio on neither side")


@dataclass
class CurvePoint:
    train_size: int
    mean: float  # mean over seeds of the per-seed accuracy
    low: float | None  # 95% band (see BAND); None without resamples
    high: float | None
    seeds: list[int]
    accuracies: list[float]  # per seed, same order as ``seeds``
    calls: float | None = None  # mean reasoner calls its training consumed (study.costs); None: not recorded


@dataclass
class Curve:
    method: str
    points: list[CurvePoint]
    validation_items: int = 0  # labelled items it selected its config and stopping step on, not in N
    untrained: CurvePoint | None = None  # N=0: the method before training (not on the log-N axis)

    @property
    def sizes(self) -> list[int]:
        return [p.train_size for p in self.points]

    @property
    def means(self) -> list[float]:
        return [p.mean for p in self.points]

    @property
    def calls(self) -> list[float] | None:
        """Training calls per size; None unless every size recorded them."""
        calls = [p.calls for p in self.points]
        return None if any(c is None for c in calls) else calls


@dataclass
class ConstantLine:
    method: str
    accuracy: float
    low: float  # 95% Wilson interval over test items
    high: float
    items: int
    mean_tools: float | None = None  # tools per item (None in results kept before it was recorded)


@dataclass
class ItemsToTarget:
    method: str
    target: float
    items: float | None  # N(a); None: not reached by n_max
    status: str  # REACHED, AT_SMALLEST or NOT_REACHED
    n_max: int  # the method's largest training size
    met_untrained: bool = False  # the untrained point (N=0) is already at or above the target


@dataclass
class CallsToTarget:
    """C_method(a): the training reasoner calls at N_method(a) (study.costs)."""

    method: str
    target: float
    calls: float | None  # None: not reached by N_max, or not recorded
    status: str  # as N(a)'s; or NOT_RECORDED
    calls_at_max: float | None  # calls at N_max (a lower bound when not reached)


@dataclass
class RatioEstimate:
    method: str
    target: Target
    n_method: ItemsToTarget
    n_ref: ItemsToTarget
    ratio: float | None  # N_method / N_ref, or N_max / N_ref when the method is not reached
    kind: str  # estimate, lower bound, upper bound, indeterminate, undefined (ratio_kind)
    interval: RatioInterval | None = None  # the bootstrap's 95% statement; None without resamples
    # the same ratio with each side's validation items counted in its N (same kind)
    ratio_counting_validation: float | None = None
    # C_method(a) / C_ref(a), the same kind (C grows with N); None where either side's calls are not recorded
    calls_ratio: float | None = None
    calls_interval: RatioInterval | None = None


@dataclass
class FamilyAnalysis:
    family: str
    items: int
    curves: list[Curve]
    constants: list[ConstantLine]
    target: Target  # the family's middle gap target (or plateau target without a gap)
    items_to_target: list[ItemsToTarget]
    ratios: list[RatioEstimate]  # point estimates only; none when the line meets the target


@dataclass
class StudyAnalysis:
    reasoner: str  # e.g. "reference reasoner": every number below was produced by it
    ref_method: str
    items: int  # test items
    resamples: int
    seed: int
    curves: list[Curve]
    constants: list[ConstantLine]
    line: Line | None  # the training-free line (None when no constant line was measured)
    targets: list[Target]
    items_to_target: list[ItemsToTarget]
    ratios: list[RatioEstimate]  # only for targets the line does not meet
    families: list[FamilyAnalysis]
    calls_to_target: list[CallsToTarget] = field(default_factory=list)  # beside items_to_target
    split: str = "test"  # the split every number was scored on ("test", or an out-of-distribution one)
    definitions: dict[str, str] = field(default_factory=lambda: {"band": BAND, "plateau": PLATEAU, "line": LINE,
                                                                 "bootstrap": BOOTSTRAP_RULE, "calls": CALLS,
                                                                 "pools": SHARED_POOL_RULE})

    def curve(self, method: str) -> Curve:
        return next(c for c in self.curves if c.method == method)

    def ratio(self, method: str, label: str) -> RatioEstimate:
        """``label`` as in ``Target.label``: "0.600" or "95% of router-ppo plateau"."""
        return next(r for r in self.ratios if r.method == method and r.target.label == label)

    def to_dict(self) -> dict:
        """Plain JSON-safe data; infinite values are written as the string "inf"."""
        return _json_safe(asdict(self))


@dataclass
class _Learned:
    """One learned method's outcomes: per training size, a (seeds, items) 0/1 matrix."""

    method: str
    sizes: list[int]
    seeds: list[list[int]]
    correct: list[np.ndarray]
    validation_items: int = 0
    untrained: tuple[list[int], np.ndarray] | None = None  # (seeds, (seeds, items) outcomes) at N=0
    calls: list[float | None] = field(default_factory=list)  # per size: mean training calls (study.costs)


def analyse(results: Sequence[TrialResult], reasoner: str, ref_method: str = "router-ppo",
            targets: Sequence[float] = (), plateau_fraction: float = 0.95, resamples: int = 1000,
            seed: int = 0, gap_fractions: Sequence[float] = (0.25, 0.5, 0.75), split: str = "test",
            seed_pools: bool = False) -> StudyAnalysis:
    """Curves, items-to-target and data-efficiency ratios of every learned method against
    ``ref_method`` at each target (see study.targets). Deterministic for a given ``seed``.
    ``seed_pools``: whether each seed's routers drew from a pool of their own (what the
    intervals include)."""
    learned, constants, tasks = _split(results, ref_method)
    everything = np.ones(len(tasks), dtype=bool)
    draws = None
    if resamples > 0:
        draws = resample({m: (d.sizes, d.seeds, d.correct) for m, d in learned.items()},
                         {t.method: t.correct for t in constants}, len(tasks), resamples, seed)
    curves = [_curve(m, everything, draws) for m in learned.values()]
    ref_curve = curves[list(learned).index(ref_method)]
    lines = [_constant(t, everything) for t in constants]
    by_name = {c.method: c.accuracy for c in lines}
    goals = study_targets(by_name, ref_curve.means[-1], targets, gap_fractions, plateau_fraction, ref_method)
    reach = [items_needed_for(c, g.accuracy) for g in goals for c in curves]
    spent = [calls_needed_for(c, r) for c, r in zip(curves * len(goals), reach, strict=True)]
    ratios = [_ratio(c, ref_curve, g) for g in goals if g.met_without_training is None
              for c in curves if c.method != ref_method]
    if draws is not None:
        by_method = {c.method: c for c in curves}
        for r in ratios:
            r.interval = _ratio_interval(r, draws, learned, ref_method)
            r.calls_interval = _ratio_interval(r, draws, learned, ref_method, by_method)
    families = [_family(name, tasks == name, learned, constants, ref_method, plateau_fraction, gap_fractions)
                for name in sorted(set(tasks.tolist()))]
    analysis = StudyAnalysis(reasoner, ref_method, len(tasks), resamples, seed, curves, lines,
                             training_free_line(by_name), goals, reach, ratios, families, spent, split)
    analysis.definitions["pools"] = SEED_POOLS_RULE if seed_pools else SHARED_POOL_RULE
    return analysis


def items_needed_for(curve: Curve, target: float) -> ItemsToTarget:
    """N(a) of one mean curve (see the module docstring)."""
    n, status = items_needed(np.array([curve.means]), np.array(curve.sizes), np.array([target]))
    value = float(n[0])
    met = curve.untrained is not None and curve.untrained.mean >= target
    return ItemsToTarget(curve.method, float(target), value if math.isfinite(value) else None, str(status[0]),
                         curve.sizes[-1], met)


def calls_needed_for(curve: Curve, reach: ItemsToTarget) -> CallsToTarget:
    """C(a) at N(a) (study.costs): reached at the smallest size, it is at most the smallest
    size's calls; not reached, at least the largest size's."""
    calls = curve.calls
    if calls is None:
        return CallsToTarget(curve.method, reach.target, None, NOT_RECORDED, None)
    at_max = float(calls[-1])
    value = None if reach.items is None else float(calls_at(reach.items, curve.sizes, calls)[0])
    return CallsToTarget(curve.method, reach.target, value, reach.status, at_max)


def _split(results: Sequence[TrialResult], ref_method: str):
    """Validate the trials and group them: learned methods (in the study's order), the
    constant-line trials, and the test split's task per item."""
    if not results:
        raise ValueError("no trial results to analyse")
    first, seen = results[0], set()
    for r in results:
        if r.item_ids != first.item_ids:
            raise ValueError(f"trial {r.key} was scored on a different test split than trial {first.key}")
        if r.tasks != first.tasks:
            raise ValueError(f"trial {r.key} gives other task families for the test items than trial {first.key}")
        if (r.method, r.train_size, r.seed) in seen:
            raise ValueError(f"duplicate trial {r.key} (method, train_size, seed)")
        seen.add((r.method, r.train_size, r.seed))
    grouped: dict[str, list[TrialResult]] = defaultdict(list)
    for r in results:
        grouped[r.method].append(r)
    constants, learned, learned_methods = [], {}, method_names()
    for method, trials in grouped.items():
        if method not in learned_methods and any(t.train_size == 0 for t in trials):
            if len(trials) > 1:
                raise ValueError(f"constant line {method} (train_size 0) has {len(trials)} trials; expected one")
            constants.append(trials[0])
        else:
            learned[method] = _learned(method, trials)
    if ref_method not in learned:
        raise ValueError(f"reference method {ref_method!r} has no learned trials; learned: {sorted(learned)}")
    order = {m: k for k, m in enumerate(learned_methods)}
    learned = dict(sorted(learned.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))
    return learned, sorted(constants, key=lambda t: t.method), np.asarray(first.tasks)


def _learned(method: str, trials: list[TrialResult]) -> _Learned:
    by_size: dict[int, list[TrialResult]] = defaultdict(list)
    for t in trials:
        by_size[t.train_size].append(t)
    untrained = None
    if 0 in by_size:
        runs = sorted(by_size.pop(0), key=lambda t: t.seed)
        untrained = ([t.seed for t in runs], np.array([t.correct for t in runs], dtype=float))
    if not by_size:
        raise ValueError(f"method {method} has only its untrained point (N=0): nothing to analyse")
    sizes = sorted(by_size)
    runs = [sorted(by_size[n], key=lambda t: t.seed) for n in sizes]
    return _Learned(method, sizes, [[t.seed for t in r] for r in runs],
                    [np.array([t.correct for t in r], dtype=float) for r in runs],
                    max(int(t.info.get("validation_items", 0)) for t in trials), untrained,
                    [mean_calls(r) for r in runs])


def _curve(data: _Learned, mask: np.ndarray, draws: Resamples | None) -> Curve:
    """Mean accuracy per size over ``mask``'s items; the band from ``draws`` (whole split only)."""
    lows = highs = [None] * len(data.sizes)
    if draws is not None and mask.all():
        lows, highs = band(draws.curves[data.method])
    points = []
    for size, seeds, correct, low, high, calls in zip(data.sizes, data.seeds, data.correct, lows, highs, data.calls,
                                                      strict=True):
        acc = correct[:, mask].mean(axis=1)
        points.append(CurvePoint(size, float(acc.mean()), low, high, list(seeds), acc.tolist(), calls))
    return Curve(data.method, points, data.validation_items, _untrained_point(data, mask))


def _untrained_point(data: _Learned, mask: np.ndarray) -> CurvePoint | None:
    if data.untrained is None:
        return None
    seeds, correct = data.untrained
    outcomes = correct[:, mask]
    low, high = wilson_interval(int(outcomes.sum()), int(outcomes.size))
    return CurvePoint(0, float(outcomes.mean()), low, high, list(seeds), outcomes.mean(axis=1).tolist())


def _constant(trial: TrialResult, mask: np.ndarray) -> ConstantLine:
    correct = np.asarray(trial.correct, dtype=bool)[mask]
    low, high = wilson_interval(int(correct.sum()), int(correct.size))
    return ConstantLine(trial.method, float(correct.mean()) if correct.size else 0.0, low, high, int(correct.size),
                        trial.info.get("mean_tools"))


def _ratio(curve: Curve, ref_curve: Curve, target: Target) -> RatioEstimate:
    n_method, n_ref = items_needed_for(curve, target.accuracy), items_needed_for(ref_curve, target.accuracy)
    kind = ratio_kind(n_method.status, n_ref.status)
    ratio = counted = None
    if n_ref.items is not None:
        n = n_method.items if n_method.items is not None else n_method.n_max
        ratio = n / n_ref.items
        counted = (n + curve.validation_items) / (n_ref.items + ref_curve.validation_items)
    calls_ratio = None
    if ratio is not None and curve.calls is not None and ref_curve.calls is not None:
        c_ref = calls_at(n_ref.items, ref_curve.sizes, ref_curve.calls)[0]
        c = calls_at(n, curve.sizes, curve.calls)[0]
        calls_ratio = float(c / c_ref) if c_ref > 0 else None
    return RatioEstimate(curve.method, target, n_method, n_ref, ratio, kind, ratio_counting_validation=counted,
                         calls_ratio=calls_ratio)


def _ratio_interval(r: RatioEstimate, draws: Resamples, learned: dict[str, _Learned], ref: str,
                    calls_of: dict[str, Curve] | None = None) -> RatioInterval | None:
    """The bootstrap's statement on N_method / N_ref; with ``calls_of`` (the curves), on
    C_method / C_ref instead: each resample's N bounds mapped through C(N) (None when
    either side's calls are not recorded, or the reference's cost none)."""
    goal = draws.target_values(r.target, ref)
    n_m, status_m = items_needed(draws.curves[r.method], np.array(learned[r.method].sizes), goal)
    n_r, status_r = items_needed(draws.curves[ref], np.array(learned[ref].sizes), goal)
    bounds_m = n_bounds(n_m, status_m, learned[r.method].sizes)
    bounds_r = n_bounds(n_r, status_r, learned[ref].sizes)
    if calls_of is not None:
        if r.calls_ratio is None:
            return None
        method, reference = calls_of[r.method], calls_of[ref]
        bounds_m = tuple(calls_at(b, method.sizes, method.calls) for b in bounds_m)
        bounds_r = tuple(calls_at(b, reference.sizes, reference.calls) for b in bounds_r)
    low, high = ratio_bounds(bounds_m, bounds_r)
    return summarise_ratio(low, high, (status_m == REACHED) & (status_r == REACHED), np.isfinite(n_m),
                           np.isfinite(n_r))


def _family(name: str, mask: np.ndarray, learned: dict[str, _Learned], constants: list[TrialResult],
            ref_method: str, plateau_fraction: float, gap_fractions: Sequence[float]) -> FamilyAnalysis:
    """One family's curves and point ratios at its middle gap target (its own line and
    oracle), or at ``plateau_fraction`` of its router plateau when it has no gap."""
    curves = [_curve(m, mask, None) for m in learned.values()]
    ref_curve = curves[list(learned).index(ref_method)]
    lines = [_constant(t, mask) for t in constants]
    goals = study_targets({c.method: c.accuracy for c in lines}, ref_curve.means[-1], (), gap_fractions,
                          plateau_fraction, ref_method)
    gaps = [g for g in goals if g.kind == GAP]
    target = gaps[len(gaps) // 2] if gaps else goals[-1]
    target.label = f"{target.label} ({name})"
    ratios = [] if target.met_without_training else [_ratio(c, ref_curve, target) for c in curves
                                                     if c.method != ref_method]
    return FamilyAnalysis(name, int(mask.sum()), curves, lines, target,
                          [items_needed_for(c, target.accuracy) for c in curves], ratios)


def _json_safe(value):
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def ratio_kind(method_status: str, ref_status: str) -> str:
    """What N_method / N_ref is, given how each N was found."""
    if ref_status == NOT_REACHED:
        return "undefined"  # the router never reaches the target
    if method_status == NOT_REACHED:
        return "lower bound"  # N_max / N_ref
    if method_status == AT_SMALLEST:
        return "indeterminate" if ref_status == AT_SMALLEST else "upper bound"
    return "lower bound" if ref_status == AT_SMALLEST else "estimate"
