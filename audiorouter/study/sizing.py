"""Items needed to reach an accuracy target, for many mean curves at once.

A curve is a row of mean accuracies over increasing training sizes. N(a) is the first
size whose mean is ≥ a, linearly interpolated in log N from the size before it::

    log N = log N_lo + (a - m_lo) / (m_hi - m_lo) · (log N_hi - log N_lo)

Reached at the smallest size: N = that size (an upper bound). Never reached: N = +inf.
"""

from __future__ import annotations

import numpy as np

REACHED = "reached"  # interpolated between two sizes
AT_SMALLEST = "reached at the smallest size"  # N is an upper bound
NOT_REACHED = "not reached by N_max"

EPS = 1e-9  # a mean within EPS below the target counts as reaching it (targets computed as 0.95 × plateau)


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
