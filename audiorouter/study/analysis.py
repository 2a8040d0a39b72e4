"""Scaling-study analysis: accuracy against training-set size, the items each method
needs to reach an accuracy target, and data-efficiency ratios against the router.

Definitions (stated again in ``study.json`` and ``study.md``):

* **band** — at each training size, the 95% t-interval over seeds of the per-seed
  accuracies, ``mean ± t(0.975, k-1) · sd / sqrt(k)`` (k seeds), clipped to [0, 1];
  no band with one seed. It shows seed-to-seed variation on the fixed test split.
* **constant lines** (train_size 0) — accuracy with a 95% Wilson interval over items.
* **N_method(a)** — the first training size at which the mean curve is ≥ a, linearly
  interpolated in log N from the size before it (m_lo < a ≤ m_hi)::

      log N = log N_lo + (a - m_lo) / (m_hi - m_lo) · (log N_hi - log N_lo)

  If the smallest size already reaches a, N is that size: an upper bound
  ("reached at the smallest size"). If no size reaches a: "not reached by N_max".
* **plateau** — the reference router's mean accuracy at its largest training size;
  the relative target is ``plateau_fraction`` (0.95) × plateau.
* **ratio** — N_method(a) / N_ref(a). Not reached by the method: N_max / N_ref(a) is
  a lower bound. Not reached by the router: undefined.
* **bootstrap** — each resample draws test items with replacement (one draw shared by
  every method: paired) and, per method independently, seeds with replacement (whole
  seed trajectories across sizes; a size none of the drawn seeds has redraws from its
  own seeds), then recomputes the mean curves, the plateau target, both N(a) and the
  ratio. Not reached counts as N = +inf, so the ratio is +inf (method not reached) or
  0 (router not reached) and inf/inf (neither) is undefined: those resamples are left
  out of the interval and their share is reported; reached at the smallest size counts
  as that size. The interval is the 2.5th / 97.5th
  order statistic (lower / higher rank) of the defined ratios, so it may be +inf.

``items_needed`` computes N(a) for many curves at once (the bootstrap's resamples);
``NOT_REACHED`` is its status for a curve that never reaches a, and ``BOOTSTRAP_RULE``
the note that says how the bootstrap counts such curves.

Imports: evaluation.stats, study.results.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import stats

from audiorouter.evaluation.stats import wilson_interval
from audiorouter.study.results import LEARNED_METHODS, TrialResult

# how N(a) was found (ItemsToTarget.status)
REACHED = "reached"  # interpolated between two sizes
AT_SMALLEST = "reached at the smallest size"  # N is an upper bound
NOT_REACHED = "not reached by N_max"

EPS = 1e-9  # a mean within EPS below the target counts as reaching it (targets computed as 0.95 × plateau)

BAND = "95% t-interval over seeds: mean ± t(0.975, k-1)·sd/sqrt(k), clipped to [0, 1]; none with one seed"
PLATEAU = "reference router's mean accuracy at its largest training size"
BOOTSTRAP_RULE = ("bootstrap: not reached counts as N=+inf (ratio +inf, or 0 when only the router misses); "
                  "reached at the smallest size counts as that size; resamples where neither reaches are "
                  "undefined and left out; interval = 2.5/97.5% order statistics")


@dataclass
class CurvePoint:
    train_size: int
    mean: float  # mean over seeds of the per-seed accuracy
    low: float | None  # 95% band (see BAND); None with one seed
    high: float | None
    seeds: list[int]
    accuracies: list[float]  # per seed, same order as ``seeds``


@dataclass
class Curve:
    method: str
    points: list[CurvePoint]

    @property
    def sizes(self) -> list[int]:
        return [p.train_size for p in self.points]

    @property
    def means(self) -> list[float]:
        return [p.mean for p in self.points]


@dataclass
class ConstantLine:
    method: str
    accuracy: float
    low: float  # 95% Wilson interval over test items
    high: float
    items: int


@dataclass
class Target:
    label: str  # "0.700" or "95% of router-ppo plateau"
    accuracy: float
    plateau_fraction: float | None = None  # set for the relative target

    @property
    def text(self) -> str:
        """How tables and legends name the target: "a = 0.700 (95% of router-ppo plateau)"."""
        return f"a = {self.accuracy:.3f}" + ("" if self.plateau_fraction is None else f" ({self.label})")


@dataclass
class ItemsToTarget:
    method: str
    target: float
    items: float | None  # N(a); None: not reached by n_max
    status: str  # REACHED, AT_SMALLEST or NOT_REACHED
    n_max: int  # the method's largest training size


@dataclass
class RatioEstimate:
    method: str
    target: Target
    n_method: ItemsToTarget
    n_ref: ItemsToTarget
    ratio: float | None  # N_method / N_ref, or N_max / N_ref when the method is not reached
    kind: str  # estimate, lower bound, upper bound, indeterminate, undefined (ratio_kind)
    ci_low: float | None = None  # bootstrap percentiles; math.inf allowed; None: no bootstrap
    ci_high: float | None = None
    reached_method: float | None = None  # share of resamples where the method reached the target
    reached_ref: float | None = None
    undefined_share: float | None = None  # share of resamples where neither reached
    resamples: int = 0


@dataclass
class FamilyAnalysis:
    family: str
    items: int
    curves: list[Curve]
    constants: list[ConstantLine]
    target: Target  # plateau_fraction × this family's router plateau
    items_to_target: list[ItemsToTarget]
    ratios: list[RatioEstimate]  # point estimates only


@dataclass
class StudyAnalysis:
    reasoner: str  # e.g. "reference reasoner": every number below was produced by it
    ref_method: str
    items: int  # test items
    resamples: int
    seed: int
    curves: list[Curve]
    constants: list[ConstantLine]
    targets: list[Target]
    items_to_target: list[ItemsToTarget]
    ratios: list[RatioEstimate]
    families: list[FamilyAnalysis]
    definitions: dict[str, str] = field(default_factory=lambda: {"band": BAND, "plateau": PLATEAU,
                                                                 "not_reached": BOOTSTRAP_RULE})

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


def analyse(results: Sequence[TrialResult], reasoner: str, ref_method: str = "router-ppo",
            targets: Sequence[float] = (), plateau_fraction: float = 0.95, resamples: int = 1000,
            seed: int = 0) -> StudyAnalysis:
    """Curves, items-to-target and data-efficiency ratios of every learned method
    against ``ref_method`` at each absolute target and at ``plateau_fraction`` of the
    router's plateau. Deterministic for a given ``seed``."""
    learned, constants, tasks = _split(results, ref_method)
    everything = np.ones(len(tasks), dtype=bool)
    curves = [_curve(m, everything) for m in learned.values()]
    ref_curve = curves[list(learned).index(ref_method)]
    goals = [Target(f"{a:.3f}", float(a)) for a in targets]
    goals.append(Target(f"{plateau_fraction:.0%} of {ref_method} plateau", plateau_fraction * ref_curve.means[-1],
                        plateau_fraction))
    reach = [items_needed_for(c, g.accuracy) for g in goals for c in curves]
    ratios = [_ratio(c, ref_curve, g) for g in goals for c in curves if c.method != ref_method]
    if resamples > 0:
        _bootstrap(ratios, learned, ref_method, len(tasks), resamples, seed)
    families = [_family(name, tasks == name, learned, constants, ref_method, plateau_fraction)
                for name in sorted(set(tasks.tolist()))]
    return StudyAnalysis(reasoner, ref_method, len(tasks), resamples, seed, curves,
                         [_constant(t, everything) for t in constants], goals, reach, ratios, families)


def items_needed_for(curve: Curve, target: float) -> ItemsToTarget:
    """N(a) of one mean curve (see the module docstring)."""
    n, status = items_needed(np.array([curve.means]), np.array(curve.sizes), np.array([target]))
    value = float(n[0])
    return ItemsToTarget(curve.method, float(target), value if math.isfinite(value) else None, str(status[0]),
                         curve.sizes[-1])


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
    constants, learned = [], {}
    for method, trials in grouped.items():
        if any(t.train_size == 0 for t in trials):
            if len(trials) > 1:
                raise ValueError(f"constant line {method} (train_size 0) has {len(trials)} trials; expected one")
            constants.append(trials[0])
        else:
            learned[method] = _learned(method, trials)
    if ref_method not in learned:
        raise ValueError(f"reference method {ref_method!r} has no learned trials; learned: {sorted(learned)}")
    order = {m: k for k, m in enumerate(LEARNED_METHODS)}
    learned = dict(sorted(learned.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))
    return learned, sorted(constants, key=lambda t: t.method), np.asarray(first.tasks)


def _learned(method: str, trials: list[TrialResult]) -> _Learned:
    by_size: dict[int, list[TrialResult]] = defaultdict(list)
    for t in trials:
        by_size[t.train_size].append(t)
    sizes = sorted(by_size)
    runs = [sorted(by_size[n], key=lambda t: t.seed) for n in sizes]
    return _Learned(method, sizes, [[t.seed for t in r] for r in runs],
                    [np.array([t.correct for t in r], dtype=float) for r in runs])


def _curve(data: _Learned, mask: np.ndarray) -> Curve:
    points = []
    for size, seeds, correct in zip(data.sizes, data.seeds, data.correct, strict=True):
        acc = correct[:, mask].mean(axis=1)
        mean, low, high = float(acc.mean()), None, None
        if len(acc) > 1:
            half = stats.t.ppf(0.975, len(acc) - 1) * acc.std(ddof=1) / math.sqrt(len(acc))
            low, high = float(max(0.0, mean - half)), float(min(1.0, mean + half))
        points.append(CurvePoint(size, mean, low, high, list(seeds), acc.tolist()))
    return Curve(data.method, points)


def _constant(trial: TrialResult, mask: np.ndarray) -> ConstantLine:
    correct = np.asarray(trial.correct, dtype=bool)[mask]
    low, high = wilson_interval(int(correct.sum()), int(correct.size))
    return ConstantLine(trial.method, float(correct.mean()) if correct.size else 0.0, low, high, int(correct.size))


def _ratio(curve: Curve, ref_curve: Curve, target: Target) -> RatioEstimate:
    n_method, n_ref = items_needed_for(curve, target.accuracy), items_needed_for(ref_curve, target.accuracy)
    kind = ratio_kind(n_method.status, n_ref.status)
    ratio = None
    if n_ref.items is not None:
        ratio = (n_method.items if n_method.items is not None else n_method.n_max) / n_ref.items
    return RatioEstimate(curve.method, target, n_method, n_ref, ratio, kind)


def _family(name: str, mask: np.ndarray, learned: dict[str, _Learned], constants: list[TrialResult],
            ref_method: str, plateau_fraction: float) -> FamilyAnalysis:
    curves = [_curve(m, mask) for m in learned.values()]
    ref_curve = curves[list(learned).index(ref_method)]
    target = Target(f"{plateau_fraction:.0%} of {ref_method} plateau ({name})",
                    plateau_fraction * ref_curve.means[-1], plateau_fraction)
    return FamilyAnalysis(name, int(mask.sum()), curves, [_constant(t, mask) for t in constants], target,
                          [items_needed_for(c, target.accuracy) for c in curves],
                          [_ratio(c, ref_curve, target) for c in curves if c.method != ref_method])


def _bootstrap(ratios: list[RatioEstimate], learned: dict[str, _Learned], ref: str, items: int,
               resamples: int, seed: int) -> None:
    """Fill each ratio's interval and reach shares from one paired bootstrap (see module doc)."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, items, size=(resamples, items))
    offsets = (draws + items * np.arange(resamples)[:, None]).ravel()
    weights = np.bincount(offsets, minlength=resamples * items).reshape(resamples, items) / items
    curves = {m: _resampled_curve(data, weights, rng) for m, data in learned.items()}
    sizes = {m: np.array(data.sizes) for m, data in learned.items()}
    for r in ratios:
        goal = (np.full(resamples, r.target.accuracy) if r.target.plateau_fraction is None
                else r.target.plateau_fraction * curves[ref][:, -1])
        n_m, _ = items_needed(curves[r.method], sizes[r.method], goal)
        n_r, _ = items_needed(curves[ref], sizes[ref], goal)
        with np.errstate(invalid="ignore", divide="ignore"):
            values = n_m / n_r
        defined = np.sort(values[~np.isnan(values)])
        if defined.size:
            r.ci_low = float(defined[math.floor(0.025 * (defined.size - 1))])
            r.ci_high = float(defined[math.ceil(0.975 * (defined.size - 1))])
        r.reached_method, r.reached_ref = float(np.isfinite(n_m).mean()), float(np.isfinite(n_r).mean())
        r.undefined_share, r.resamples = float(np.isnan(values).mean()), resamples


def _resampled_curve(data: _Learned, weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(resamples, sizes) mean curves: item weights per resample, seeds drawn with
    replacement as whole trajectories over this method's seeds."""
    pool = sorted({s for seeds in data.seeds for s in seeds})
    drawn = rng.integers(0, len(pool), size=(weights.shape[0], len(pool)))
    counts = np.zeros((weights.shape[0], len(pool)))
    np.add.at(counts, (np.arange(weights.shape[0])[:, None], drawn), 1)
    out = np.empty((weights.shape[0], len(data.sizes)))
    for j, (seeds, correct) in enumerate(zip(data.seeds, data.correct, strict=True)):
        w = counts[:, [pool.index(s) for s in seeds]]
        empty = w.sum(axis=1) == 0
        if empty.any():  # none of the drawn seeds ran at this size: redraw from its own seeds
            w[empty] = rng.multinomial(len(seeds), np.full(len(seeds), 1 / len(seeds)), size=int(empty.sum()))
        out[:, j] = ((weights @ correct.T) * w).sum(axis=1) / w.sum(axis=1)
    return out


def _json_safe(value):
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


# ------------------------------------------- N(a) of many mean curves at once


def items_needed(curves: np.ndarray, sizes: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """N(a) per row of ``curves`` (rows, sizes) for the row's target in ``targets`` (rows,);
    returns (N with +inf where not reached, status per row)."""
    curves, sizes = np.asarray(curves, dtype=float), np.asarray(sizes, dtype=float)
    targets = np.asarray(targets, dtype=float)
    reached = curves >= targets[:, None] - EPS
    hit, first = reached.any(axis=1), reached.argmax(axis=1)
    prev, rows = np.maximum(first - 1, 0), np.arange(len(curves))
    low, high = curves[rows, prev], curves[rows, first]
    span = high - low
    frac = np.divide(targets - low, span, out=np.zeros_like(span), where=(first > 0) & (span > 0))
    n = sizes[prev] * (sizes[first] / sizes[prev]) ** np.clip(frac, 0.0, 1.0)  # exact at the sizes themselves
    n[~hit] = np.inf
    status = np.where(~hit, NOT_REACHED, np.where(first == 0, AT_SMALLEST, REACHED))
    return n, status


def ratio_kind(method_status: str, ref_status: str) -> str:
    """What N_method / N_ref is, given how each N was found."""
    if ref_status == NOT_REACHED:
        return "undefined"  # the router never reaches the target
    if method_status == NOT_REACHED:
        return "lower bound"  # N_max / N_ref
    if method_status == AT_SMALLEST:
        return "indeterminate" if ref_status == AT_SMALLEST else "upper bound"
    return "lower bound" if ref_status == AT_SMALLEST else "estimate"
