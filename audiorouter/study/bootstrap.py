"""The study's bootstrap: test items and seeds resampled jointly, for curve bands and
data-efficiency ratio intervals that say what the data can and cannot bound.

One resample draws the test items with replacement, **one draw shared by every method
and constant line** (so comparisons are paired by item), and, per learned method, its
seeds with replacement as whole trajectories over sizes (methods' seeds are separate
runs, so they are drawn separately). Each resample recomputes the mean curves, the
constant lines, the targets (gap and plateau targets move with them) and every N(a).

N(a) in one resample is known exactly only when it is interpolated inside the grid.
Otherwise it is only bounded: reached at the smallest size gives 0 < N <= N_min, not
reached gives N > N_max. So each resample gives the ratio N_method / N_ref as an interval
``[lo, hi]`` (``ratio_bounds``), possibly ``[0, inf]`` (undefined: neither side bounded),
and the study's 95% statement is built from all resamples (``summarise_ratio``):

* both N interpolated inside their grids in >= 97.5% of resamples: the two-sided interval
  [2.5th percentile of lo, 97.5th percentile of hi];
* otherwise a one-sided bound: "ratio >= L" with L the 2.5th percentile of lo when L > 0,
  else "ratio <= H" with H the 97.5th percentile of hi when finite, else no bound; with
  the share of resamples whose own interval lies behind the bound.

Imports: study.targets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from audiorouter.study.targets import ABSOLUTE, GAP, ORACLE, TRAINING_FREE, Target, gap_target

REACHED = "reached"  # interpolated between two sizes
AT_SMALLEST = "reached at the smallest size"  # N is an upper bound
NOT_REACHED = "not reached by N_max"

EPS = 1e-9  # a mean within EPS below the target counts as reaching it (targets are computed)
INSIDE_SHARE = 0.975  # both N interpolated in at least this share of resamples: a two-sided interval

TWO_SIDED, LOWER, UPPER, NO_BOUND = "two-sided", "lower bound", "upper bound", "no bound"


@dataclass
class Resamples:
    """Per resample: each learned method's mean curve (resamples, sizes) and each constant
    line's accuracy (resamples,)."""

    curves: dict[str, np.ndarray]
    constants: dict[str, np.ndarray]

    def target_values(self, target: Target, ref_method: str) -> np.ndarray:
        """``target`` recomputed in every resample by its own rule (see study.targets)."""
        count = next(iter(self.curves.values())).shape[0]
        if target.kind == ABSOLUTE:
            return np.full(count, target.accuracy)
        if target.kind == GAP:
            line = np.max([self.constants[m] for m in TRAINING_FREE if m in self.constants], axis=0)
            return gap_target(line, self.constants[ORACLE], target.fraction)
        return target.fraction * self.curves[ref_method][:, -1]


def resample(learned, constants: dict[str, np.ndarray], items: int, resamples: int, seed: int) -> Resamples:
    """``learned``: method -> (sizes, seeds per size, (seeds, items) 0/1 matrix per size);
    ``constants``: method -> (items,) 0/1 outcomes. Deterministic for ``seed``."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, items, size=(resamples, items))
    offsets = (draws + items * np.arange(resamples)[:, None]).ravel()
    weights = np.bincount(offsets, minlength=resamples * items).reshape(resamples, items) / items
    curves = {method: _resampled_curve(seeds, correct, weights, rng) for method, (_, seeds, correct) in learned.items()}
    return Resamples(curves, {method: weights @ np.asarray(outcomes, dtype=float)
                              for method, outcomes in constants.items()})


def band(curve: np.ndarray) -> tuple[list[float], list[float]]:
    """The 95% percentile band of resampled mean curves (resamples, sizes), per size."""
    return np.percentile(curve, 2.5, axis=0).tolist(), np.percentile(curve, 97.5, axis=0).tolist()


def _resampled_curve(seeds: list[list[int]], correct: list[np.ndarray], weights: np.ndarray,
                     rng: np.random.Generator) -> np.ndarray:
    """(resamples, sizes) mean curves: item weights per resample, seeds drawn with
    replacement as whole trajectories over this method's seeds."""
    pool = sorted({s for per_size in seeds for s in per_size})
    drawn = rng.integers(0, len(pool), size=(weights.shape[0], len(pool)))
    counts = np.zeros((weights.shape[0], len(pool)))
    np.add.at(counts, (np.arange(weights.shape[0])[:, None], drawn), 1)
    out = np.empty((weights.shape[0], len(seeds)))
    for j, (per_size, matrix) in enumerate(zip(seeds, correct, strict=True)):
        w = counts[:, [pool.index(s) for s in per_size]]
        empty = w.sum(axis=1) == 0
        if empty.any():  # none of the drawn seeds ran at this size: redraw from its own seeds
            w[empty] = rng.multinomial(len(per_size), np.full(len(per_size), 1 / len(per_size)),
                                       size=int(empty.sum()))
        out[:, j] = ((weights @ matrix.T) * w).sum(axis=1) / w.sum(axis=1)
    return out


# ------------------------------------------------------------- N(a) and ratios


def items_needed(curves: np.ndarray, sizes: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """N(a) per row of ``curves`` (rows, sizes) for the row's target in ``targets`` (rows,),
    linearly interpolated in log N from the size before the first that reaches it;
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


def n_bounds(n: np.ndarray, status: np.ndarray, sizes) -> tuple[np.ndarray, np.ndarray]:
    """What each N(a) is known to lie in: [N, N] inside the grid, [0, N_min] when reached
    at the smallest size, [N_max, inf] when not reached."""
    low = np.where(status == REACHED, n, np.where(status == AT_SMALLEST, 0.0, float(sizes[-1])))
    high = np.where(status == REACHED, n, np.where(status == AT_SMALLEST, float(sizes[0]), np.inf))
    return low, high


def ratio_bounds(method: tuple[np.ndarray, np.ndarray], ref: tuple[np.ndarray, np.ndarray]):
    """Per resample, the interval N_method / N_ref lies in, from both N's bounds."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return method[0] / ref[1], method[1] / ref[0]


@dataclass
class RatioInterval:
    form: str  # TWO_SIDED, LOWER, UPPER or NO_BOUND
    low: float | None  # None where the form has no lower end (UPPER, NO_BOUND)
    high: float | None  # None where it has no upper end (LOWER, NO_BOUND)
    behind: float | None  # share of resamples whose interval lies behind a one-sided bound
    inside: float  # share of resamples with both N interpolated inside their grids
    undefined: float  # share of resamples where the ratio is not bounded at all ([0, inf])
    reached_method: float  # share of resamples where the method reaches the target
    reached_ref: float
    resamples: int


def summarise_ratio(low: np.ndarray, high: np.ndarray, inside: np.ndarray, reached_method: np.ndarray,
                    reached_ref: np.ndarray) -> RatioInterval:
    """The 95% statement the resamples support (see the module docstring)."""
    lo = float(np.sort(low)[math.floor(0.025 * (low.size - 1))])
    hi = float(np.sort(high)[math.ceil(0.975 * (high.size - 1))])
    inside_share = float(inside.mean())
    if inside_share >= INSIDE_SHARE:
        form, bounds, behind = TWO_SIDED, (lo, hi), None
    elif lo > 0:
        form, bounds, behind = LOWER, (lo, None), float((low >= lo).mean())
    elif math.isfinite(hi):
        form, bounds, behind = UPPER, (None, hi), float((high <= hi).mean())
    else:
        form, bounds, behind = NO_BOUND, (None, None), None
    return RatioInterval(form, *bounds, behind, inside_share, float(((low == 0) & np.isinf(high)).mean()),
                         float(reached_method.mean()), float(reached_ref.mean()), int(low.size))
