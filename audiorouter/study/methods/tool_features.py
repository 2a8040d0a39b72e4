"""Every tool's structured output as numbers: the input of the ``tools-supervised`` head.

``tools-supervised`` is the rival a router must beat to show that *routing* is learnt
cheaply, not merely *having* measuring tools: a head trained on the same labelled items
that sees every tool's parsed output (``ToolResult.data``: numbers and labels, never the
text summary) beside the question and choice embeddings.

``flatten_tool_data`` turns one tool's data into flat fields; ``ToolVectoriser`` fixes,
on the training items only, which fields exist and which labels each label field takes,
then turns any item's fields into one vector::

    fields = flatten_results(results)                     # {"tempo.bpm": 133.0, "pitch.median_note": "F#4", ...}
    vectoriser = ToolVectoriser.fit([fields of each training item])
    matrix = vectoriser.transform([fields of any items])   # (n, vectoriser.dim) float32

Flattening (``MAX_DEPTH`` levels of nesting): a number or bool is one field; a string is
a label field; a list of numbers gives its count, mean, min, max and its first
``FIRST`` values; a list of records gives its count, for each numeric member the mean,
min, max and first ``FIRST`` values, and for each label member its first ``FIRST``
labels; each tool also gives ``<tool>.ok`` (0 when it failed, and then nothing else).
Numbers enter as signed log1p (durations, Hz and BPM over orders of magnitude), with a
0/1 "present" column per numeric field; each (label field, label) seen in training is a
0/1 column.

The driver writes every covered item's fields once (``save_tool_fields``, from the
study's tool pass); trials read them (``load_tool_fields``).

Imports: contracts.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from audiorouter.contracts import ToolResult

FIRST = 4  # leading elements of a list kept in order (a melody's first notes, the first onsets)
MAX_DEPTH = 3
MAX_LABELS = 64  # per label field: the most frequent in training (sound tags have hundreds)

Fields = dict[str, float | str]
TOOL_FIELDS_FILE = "tool_fields.pkl"  # in the study folder: item id -> Fields


def flatten_results(results: Sequence[ToolResult]) -> Fields:
    """One item's tool results as flat fields, each prefixed by its tool's name."""
    fields: Fields = {}
    for result in results:
        fields[f"{result.tool}.ok"] = float(result.ok)
        if result.ok:
            fields.update(flatten_tool_data(result.tool, result.data))
    return fields


def flatten_tool_data(prefix: str, data: Any, depth: int = 0) -> Fields:
    out: Fields = {}
    if depth > MAX_DEPTH or data is None:
        return out
    if isinstance(data, bool | int | float):
        if math.isfinite(float(data)):
            out[prefix] = float(data)
    elif isinstance(data, str):
        out[prefix] = data
    elif isinstance(data, Mapping):
        for key, value in data.items():
            out.update(flatten_tool_data(f"{prefix}.{key}", value, depth + 1))
    elif isinstance(data, list | tuple):
        out[f"{prefix}#count"] = float(len(data))
        if data and all(isinstance(v, Mapping) for v in data):
            for key in sorted({k for record in data for k in record}):
                out.update(_column(f"{prefix}[].{key}", [record.get(key) for record in data]))
        else:
            out.update(_column(f"{prefix}[]", list(data)))
    return out


def _column(prefix: str, values: list) -> Fields:
    """Summary and first elements of one list of numbers, or the first labels of a list of strings."""
    numbers = [float(v) for v in values if isinstance(v, bool | int | float) and math.isfinite(float(v))]
    labels = [v for v in values if isinstance(v, str)]
    out: Fields = {}
    if numbers:
        out |= {f"{prefix}#mean": float(np.mean(numbers)), f"{prefix}#min": min(numbers),
                f"{prefix}#max": max(numbers)}
        out |= {f"{prefix}@{k}": v for k, v in enumerate(numbers[:FIRST])}
    out |= {f"{prefix}@{k}": v for k, v in enumerate(labels[:FIRST])}
    return out


@dataclass
class ToolVectoriser:
    numeric: list[str]  # numeric fields seen in training, in column order
    labels: list[tuple[str, str]]  # (label field, label) pairs seen in training

    @classmethod
    def fit(cls, rows: Sequence[Fields]) -> ToolVectoriser:
        numeric = sorted({k for row in rows for k, v in row.items() if isinstance(v, float)})
        counts: dict[tuple[str, str], int] = {}
        for row in rows:
            for key, value in row.items():
                if isinstance(value, str):
                    counts[(key, value)] = counts.get((key, value), 0) + 1
        by_field: dict[str, list[tuple[int, str]]] = {}
        for (key, value), count in counts.items():
            by_field.setdefault(key, []).append((-count, value))
        labels = sorted((key, value) for key, ranked in by_field.items() for _, value in sorted(ranked)[:MAX_LABELS])
        return cls(numeric, labels)

    @property
    def dim(self) -> int:
        return 2 * len(self.numeric) + len(self.labels)

    def transform(self, rows: Sequence[Fields]) -> np.ndarray:
        """(len(rows), dim) float32: signed log1p of each numeric field and whether it is
        present, then one 0/1 column per training label; unseen fields are dropped."""
        columns = {key: k for k, key in enumerate(self.numeric)}
        label_columns = {pair: 2 * len(self.numeric) + k for k, pair in enumerate(self.labels)}
        out = np.zeros((len(rows), self.dim), np.float32)
        for i, row in enumerate(rows):
            for key, value in row.items():
                if isinstance(value, float) and key in columns:
                    out[i, columns[key]] = math.copysign(math.log1p(abs(value)), value)
                    out[i, len(self.numeric) + columns[key]] = 1.0
                elif isinstance(value, str) and (key, value) in label_columns:
                    out[i, label_columns[(key, value)]] = 1.0
        return out


def save_tool_fields(item_ids: Sequence[str], results: Sequence[ToolResult], tools: Sequence[str],
                     study_dir: str | Path) -> Path:
    """``results`` as the tool pass returns them (each item's tools in ``tools`` order, items
    in ``item_ids`` order), flattened per item into ``study_dir/TOOL_FIELDS_FILE``."""
    if len(results) != len(item_ids) * len(tools):
        raise ValueError(f"{len(results)} tool results for {len(item_ids)} items x {len(tools)} tools")
    width = len(tools)
    fields = {item: flatten_results(results[k * width : (k + 1) * width]) for k, item in enumerate(item_ids)}
    path = Path(study_dir) / TOOL_FIELDS_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(pickle.dumps(fields, protocol=pickle.HIGHEST_PROTOCOL))
    tmp.replace(path)
    return path


def load_tool_fields(study_dir: str | Path) -> dict[str, Fields]:
    return pickle.loads((Path(study_dir) / TOOL_FIELDS_FILE).read_bytes())
