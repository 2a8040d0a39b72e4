"""The study's calls axis: the reasoner calls a trial's training consumed, and the calls a
method needs to reach an accuracy target.

A trial records ``info["training_cost"]["reasoner_calls"]`` (``study.methods.catalog.training_cost``:
distinct (item, evidence) requests its training caused, what they cost with an empty
memo). Results kept before trials recorded it are read from what they did record, where
that fixes the number exactly:

* the heads: one no-evidence request per training and validation item for those that
  read the reasoner's scores (``internalise-reasoner``), none for the model-free ones;
* the table-trained routers (``supervised-router``): the requests their outcome source
  counted (``info["source"]["reasoner_requests"]``; its local memo asks each pair once);
* an RL router's source counted nothing in the trial's process (its env runner asks a
  copy): unknown, ``None``, shown as "not recorded".

C(N), a method's mean calls over seeds at each size, maps N(a) to calls-to-target C(a)
(``calls_at``): interpolated like N(a), log-linearly between the grid's sizes. The
bootstrap's seeds-and-items resamples move N(a); C(a) follows through the same map (the
calls of the mean over all seeds, not of each resample's seeds).

Imports: study.methods (the traits), study.results.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from audiorouter.study.methods import get_method, method_names
from audiorouter.study.results import TrialResult

NOT_RECORDED = "not recorded"  # a C(a) status: some trial of the method did not record its calls


def training_calls(trial: TrialResult) -> float | None:
    """Reasoner calls ``trial``'s training consumed; None where its record does not say."""
    cost = trial.info.get("training_cost")
    if cost is not None:
        return float(cost["reasoner_calls"])
    if trial.train_size == 0:  # an untrained point trains on nothing
        return 0.0
    if trial.method not in method_names():
        return None
    traits = get_method(trial.method)
    if not traits.pool:  # a head: its items' no-evidence scores, or nothing
        labelled = trial.train_size + int(trial.info.get("validation_items", 0))
        return float(labelled) if traits.reasoner_scores else 0.0
    requests = (trial.info.get("source") or {}).get("reasoner_requests")
    return None if traits.reference or requests is None else float(requests)


def mean_calls(trials: Sequence[TrialResult]) -> float | None:
    """Mean training calls over ``trials`` (one size's seeds); None if any is unknown."""
    calls = [training_calls(t) for t in trials]
    return None if any(c is None for c in calls) else float(np.mean(calls))


def calls_at(n: np.ndarray | float, sizes: Sequence[int], calls: Sequence[float]) -> np.ndarray:
    """C at training size(s) ``n`` from the calls ``calls`` at the grid ``sizes``:
    log-linear between sizes (linear where some size costs none), 0 at N = 0, inf at inf."""
    n = np.atleast_1d(np.asarray(n, dtype=float))
    sizes_log, calls = np.log(np.asarray(sizes, dtype=float)), np.asarray(calls, dtype=float)
    out = np.full(n.shape, np.inf)
    inside = np.isfinite(n) & (n > 0)
    if not np.any(calls > 0):
        out[inside] = 0.0
    elif np.all(calls > 0):
        out[inside] = np.exp(np.interp(np.log(n[inside]), sizes_log, np.log(calls)))
    else:
        out[inside] = np.interp(np.log(n[inside]), sizes_log, calls)
    out[np.isfinite(n) & (n <= 0)] = 0.0
    return out
