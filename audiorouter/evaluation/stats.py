"""Paired bootstrap of accuracy differences, and random routing matched to a router.

Both policies in a comparison are scored on the *same* items, so the bootstrap
resamples items (with replacement) and recomputes the difference of mean
correctness on each resample:

    delta* = mean_b(c_router[idx_b] - c_base[idx_b]),   idx_b ~ Uniform{0..N-1}^N

The confidence interval is the (alpha/2, 1 - alpha/2) percentile of delta*; the
two-sided p-value is the share of resamples on the far side of zero, doubled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Subset = tuple[str, ...]


@dataclass
class PairedComparison:
    """Router minus one baseline: accuracy difference and its bootstrap interval."""

    baseline: str
    delta: float  # accuracy(router) - accuracy(baseline)
    ci_low: float
    ci_high: float
    p_value: float  # two-sided, from the bootstrap distribution
    resamples: int


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% (by default) Wilson score interval of a proportion; (0, 1) when n is 0."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def paired_bootstrap(router: np.ndarray, baseline: np.ndarray, name: str, resamples: int = 2000,
                     alpha: float = 0.05, seed: int = 0) -> PairedComparison:
    """Bootstrap the accuracy difference of two per-item correctness vectors (bool or float)."""
    diff = np.asarray(router, dtype=float) - np.asarray(baseline, dtype=float)
    if diff.size == 0:
        raise ValueError("paired_bootstrap needs at least one item")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, diff.size, size=(resamples, diff.size))
    deltas = diff[idx].mean(axis=1)
    low, high = np.quantile(deltas, [alpha / 2, 1 - alpha / 2])
    below, above = float(np.mean(deltas <= 0)), float(np.mean(deltas >= 0))
    p_value = 1.0 if np.allclose(diff, 0) else min(1.0, 2 * min(below, above))
    return PairedComparison(name, float(diff.mean()), float(low), float(high), p_value, resamples)


def random_matched(routed: Sequence[Subset], draws: int = 32, seed: int = 0) -> list[list[Subset]]:
    """``draws`` random routings with exactly the router's tool rate: each is a random
    permutation of the router's own decisions across items, so every tool is called
    as often as the router calls it (and on the same number of items), but the
    choice no longer depends on the item."""
    rng = np.random.default_rng(seed)
    routed = list(routed)
    return [[routed[j] for j in rng.permutation(len(routed))] for _ in range(draws)]
