"""Predictions written back into the original benchmark records.

MMAU's and MMAR's own evaluation scripts read a JSON list of their records, each with
the model's answer under ``model_prediction`` (the text of the chosen choice); MMAR's
README states it for its ``code/evaluation.py`` (MMAR-meta.json records plus that key,
the method taken from MMAU's). The importers keep each whole record in ``item.meta["original"]`` and the benchmark name
in ``item.meta["benchmark"]``, so the round trip is lossless:

    paths = write_benchmark_predictions(items, {item_id: "the chosen choice"}, out_dir)
    # -> out_dir/mmau_predictions.json, out_dir/mmar_predictions.json (those present)

Items without an original record (e.g. the built-in suite) are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from audiorouter.contracts import AudioQAItem

PREDICTION_KEY = "model_prediction"


def with_prediction(item: AudioQAItem, prediction: str) -> dict:
    """A copy of the item's original benchmark record with ``model_prediction`` set."""
    record = dict(item.meta["original"])
    record[PREDICTION_KEY] = prediction
    return record


def write_benchmark_predictions(items: Sequence[AudioQAItem], predictions: Mapping[str, str],
                                out_dir: str | Path) -> list[Path]:
    """One ``<benchmark>_predictions.json`` per benchmark among ``items`` that has a
    prediction; records in item order."""
    records: dict[str, list[dict]] = {}
    for item in items:
        benchmark = item.meta.get("benchmark")
        if benchmark and "original" in item.meta and item.id in predictions:  # any imported layout
            records.setdefault(benchmark, []).append(with_prediction(item, predictions[item.id]))
    out = Path(out_dir)
    paths = []
    for benchmark, rows in records.items():
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"{benchmark}_predictions.json"
        path.write_text(json.dumps(rows, indent=2, ensure_ascii=False))
        paths.append(path)
    return paths


def prediction_text(choices: Sequence[str], chosen_index: int) -> str:
    """The chosen choice's text; "" when the reasoner could not answer."""
    return choices[chosen_index] if 0 <= chosen_index < len(choices) else ""
