"""The one place that says what is stored and what crosses a process boundary.

* ``ITEM_SCHEMA`` is the Arrow schema of an audio-QA item as stored in Parquet.
* ``AudioQAItem`` is the same record in Python (one row).
* ``ToolResult``, ``ReasonerRequest``, ``ReasonerOutcome`` and ``RoutingDecision`` are
  what tool executors, reasoner workers and rollout workers send each other. They are
  plain dataclasses so Ray can pickle them and tests can build them by hand.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

SAMPLE_RATE = 16_000
SPLITS = ("train", "validation", "test")

ITEM_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("audio", pa.binary(), nullable=True),  # encoded file bytes (FLAC)
        pa.field("audio_path", pa.string(), nullable=True),  # used when audio is null
        pa.field("sample_rate", pa.int32(), nullable=False),
        pa.field("duration_s", pa.float32(), nullable=False),
        pa.field("question", pa.string(), nullable=False),
        pa.field("choices", pa.list_(pa.string()), nullable=False),
        pa.field("answer", pa.string(), nullable=False),
        pa.field("task", pa.string(), nullable=False),
        pa.field("category", pa.string(), nullable=False),
        pa.field("sub_category", pa.string(), nullable=False),
        pa.field("difficulty", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("meta", pa.string(), nullable=False),  # JSON: exact ground truth, knobs
    ]
)

# One row per (item, tool) of stored evidence: a ToolResult with its data as JSON.
EVIDENCE_SCHEMA = pa.schema(
    [
        pa.field("item_id", pa.string(), nullable=False),
        pa.field("tool", pa.string(), nullable=False),
        pa.field("version", pa.string(), nullable=False),
        pa.field("ok", pa.bool_(), nullable=False),
        pa.field("summary", pa.string(), nullable=False),
        pa.field("data", pa.string(), nullable=False),  # JSON of ToolResult.data
        pa.field("error", pa.string(), nullable=True),
        pa.field("elapsed_ms", pa.float64(), nullable=False),
        pa.field("cached", pa.bool_(), nullable=True),  # read from the tool cache (null: not recorded)
    ]
)

@dataclass
class AudioQAItem:
    """One audio question. ``answer`` is always one of ``choices``."""

    id: str
    question: str
    choices: list[str]
    answer: str
    task: str
    category: str
    sub_category: str
    difficulty: str
    source: str
    sample_rate: int = SAMPLE_RATE
    duration_s: float = 0.0
    audio: bytes | None = None
    audio_path: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def answer_index(self) -> int:
        return self.choices.index(self.answer)

    def to_row(self) -> dict[str, Any]:
        row = asdict(self)
        row["meta"] = json.dumps(self.meta)  # key order kept: an imported record is written back as it came
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> AudioQAItem:
        values = dict(row)
        values["meta"] = json.loads(values.get("meta") or "{}")
        values["choices"] = list(values["choices"])
        return cls(**{k: values[k] for k in cls.__dataclass_fields__ if k in values})


@dataclass
class ToolResult:
    """What one tool said about one clip. A failure is data: ``ok=False`` + ``error``."""

    tool: str
    version: str
    ok: bool
    summary: str = ""  # short text in the units questions use, for the reasoner
    data: dict[str, Any] = field(default_factory=dict)  # JSON-able, timestamped
    error: str | None = None
    elapsed_ms: float = 0.0

    def to_row(self, item_id: str, cached: bool | None = None) -> dict[str, Any]:
        """Its row in an ``EVIDENCE_SCHEMA`` table."""
        return {"item_id": item_id, "tool": self.tool, "version": self.version, "ok": self.ok,
                "summary": self.summary, "data": json.dumps(self.data, sort_keys=True), "error": self.error,
                "elapsed_ms": float(self.elapsed_ms), "cached": cached}

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ToolResult:
        return cls(tool=row["tool"], version=row["version"], ok=row["ok"], summary=row["summary"],
                   data=json.loads(row["data"]), error=row["error"], elapsed_ms=row["elapsed_ms"])


@dataclass
class ReasonerRequest:
    """One question for the frozen reasoner, with optional rendered-from evidence."""

    item_id: str
    waveform: np.ndarray  # float32 mono, shape (num_samples,)
    sample_rate: int
    question: str
    choices: list[str]
    answer: str | None = None
    evidence: list[ToolResult] = field(default_factory=list)


@dataclass
class ReasonerOutcome:
    """The reasoner's answer to one request; ``error`` set when it could not answer."""

    item_id: str
    chosen_index: int  # -1 when the request failed or a generated answer named no choice
    scores: list[float]  # one per choice, higher is preferred
    correct: bool | None  # None when the answer is unknown
    prompt: str
    latency_ms: float  # this request's share of the model time of its batch
    error: str | None = None
    generated: str = ""  # generation mode: the raw generated answer text


@dataclass
class RoutingDecision:
    """Which tools the router chose for one item (empty tuple means 'no tool')."""

    item_id: str
    tools: tuple[str, ...]
    log_prob: float = 0.0
