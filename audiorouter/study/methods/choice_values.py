"""The numeric side of a choice for the heads (methods/internalise.py): each choice's
parsed value (features.values.parse_choice_value) as features the head can compare with
what it hears: z-scores per unit, ranks within the item, Gaussian bumps, pitch class.

Imports: features.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from audiorouter.features.values import ChoiceValue

_RBF_CENTRES = np.linspace(-3, 3, 16)  # bumps on the log z, 0.4 apart
_RBF_WIDTH = 0.3
NUMERIC_DIM = 11 + len(_RBF_CENTRES)
_CIRCULAR = ("note", "semitone")  # pitch class matters: sin/cos of value / 12 turns


def _signed_log(x: np.ndarray | float) -> np.ndarray:
    return np.sign(x) * np.log1p(np.abs(x))


def unit_stats(values: list[ChoiceValue]) -> dict[str, tuple[float, ...]]:
    stats = {}
    for unit in sorted({v.unit for v in values}):
        x = np.array([v.value for v in values if v.unit == unit])
        logs = _signed_log(x)
        stats[unit] = (float(x.mean()), float(x.std()) or 1.0, float(logs.mean()), float(logs.std()) or 1.0)
    return stats


def value_features(values: Sequence[Sequence[ChoiceValue | None]], units: dict[str, tuple[float, ...]],
                   width: int | None = None) -> np.ndarray:
    """(items, width, NUMERIC_DIM) float32, per choice: has a value; its unit was seen in
    training; z-score of the value and of its signed log1p (per unit, training stats,
    clipped to +-5); that z squared / 4; within the item (over its choices with values):
    signed log centred and scaled, rank in [-1, 1], is the smallest, is the largest;
    16 Gaussian bumps of the log z (centres -3..3); sin and cos of the pitch class
    for notes and semitones. Zero where a choice states no value or is padding."""
    width = width or max(len(row) for row in values)
    x = np.zeros((len(values), width))
    has, known, circular = (np.zeros((len(values), width), bool) for _ in range(3))
    stats = np.tile(np.array([0.0, 1.0, 0.0, 1.0]), (len(values), width, 1))
    for i, row in enumerate(values):
        for j, v in enumerate(row):
            if v is not None:
                x[i, j], has[i, j], circular[i, j] = v.value, True, v.unit in _CIRCULAR
                if v.unit in units:
                    known[i, j], stats[i, j] = True, units[v.unit]
    logs = _signed_log(x)
    z = np.clip((logs - stats[..., 2]) / stats[..., 3], -5, 5) * known
    count = has.sum(axis=1, keepdims=True)
    mean = (logs * has).sum(axis=1, keepdims=True) / np.maximum(count, 1)
    spread = np.sqrt((((logs - mean) * has) ** 2).sum(axis=1, keepdims=True) / np.maximum(count, 1))
    lowest = np.where(has, logs, np.inf).min(axis=1, keepdims=True)
    highest = np.where(has, logs, -np.inf).max(axis=1, keepdims=True)
    varied = has & (count > 1) & (highest > lowest)
    below = (has[:, None, :] & (logs[:, None, :] < logs[:, :, None])).sum(axis=2)
    level = (has[:, None, :] & (logs[:, None, :] == logs[:, :, None])).sum(axis=2)
    columns = [
        has, known, np.clip((x - stats[..., 0]) / stats[..., 1], -5, 5) * known, z, z * z / 4,
        np.clip((logs - mean) / (spread + 1e-3), -3, 3) * varied,
        (2 * (below + 0.5 * (level - 1)) / np.maximum(count - 1, 1) - 1) * varied,
        varied & (logs == lowest), varied & (logs == highest),
        *np.moveaxis(np.exp(-0.5 * ((z[..., None] - _RBF_CENTRES) / _RBF_WIDTH) ** 2), -1, 0) * known,
        np.sin(2 * np.pi * x / 12) * circular, np.cos(2 * np.pi * x / 12) * circular,
    ]
    return np.stack(columns, axis=-1).astype(np.float32)
