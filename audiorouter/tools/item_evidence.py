"""Tool results for dataset items, the one way every caller gets them.

    evidence = ItemEvidence(config.tools, data_dir)
    pairs = evidence.results(item_id, audio, audio_path, ["pitch", "tempo"])  # [(ToolResult, cached)]
    rows = evidence.rows(item_id, audio, audio_path, tools)                  # EVIDENCE_SCHEMA rows

Decodes the item's clip (embedded bytes or a path under ``data_dir``) and runs the
tools through a ``ToolRunner`` (cache first, each call in a child process). A clip that
cannot be decoded becomes an error result per tool ("bad clip: ..."), never a failed
batch. Used by the dataset tool pass (``batch``), the inference tools stage and the
reasoner evaluation; the training driver and the study fill the cache with the actor
pool instead (``evidence_pass``), which reads the same cache. ``read_evidence`` reads a
stored evidence table (one file, or a folder of parts) back.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from audiorouter.config import ToolsConfig
from audiorouter.contracts import EVIDENCE_SCHEMA, ToolResult
from audiorouter.data.audio_io import decode_item_audio
from audiorouter.tools.base import error_result
from audiorouter.tools.runner import ToolRunner

log = logging.getLogger(__name__)


class ItemEvidence:
    """A tool runner for items of one dataset; picklable settings, one runner per process."""

    def __init__(self, config: ToolsConfig, data_dir: str | Path | None = None) -> None:
        self.runner = ToolRunner.from_config(config)
        self.data_dir = data_dir

    def results(self, item_id: str, audio: bytes | None, audio_path: str | None,
                tools: list[str]) -> list[tuple[ToolResult, bool]]:
        """One (result, whether it came from the cache) per tool, in order; never raises."""
        try:
            waveform, sample_rate = decode_item_audio(audio, audio_path, self.data_dir, f"item {item_id}")
            return self.runner.run_with_cache_flags(waveform, sample_rate, tools)
        except Exception as exc:  # a bad clip is an error result per tool, not a failed batch
            log.warning("item %s: %s", item_id, exc)
            return [(error_result(t, f"bad clip: {exc}"), False) for t in tools]

    def rows(self, item_id: str, audio: bytes | None, audio_path: str | None, tools: list[str]) -> list[dict[str, Any]]:
        """The item's ``EVIDENCE_SCHEMA`` rows, one per tool."""
        return [result.to_row(item_id, cached) for result, cached in self.results(item_id, audio, audio_path, tools)]


def read_evidence(path: str | Path) -> dict[str, list[ToolResult]]:
    """item id -> its results, in stored order, from an evidence table (a Parquet file or
    a folder of part files)."""
    path = Path(path)
    files = sorted(path.glob("part-*.parquet")) if path.is_dir() else [path]
    evidence: dict[str, list[ToolResult]] = {}
    for file in files:
        for row in pq.read_table(file, schema=EVIDENCE_SCHEMA).to_pylist():
            evidence.setdefault(row["item_id"], []).append(ToolResult.from_row(row))
    return evidence
