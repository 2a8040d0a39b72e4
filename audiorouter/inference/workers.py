"""The Ray Data workers of the three stages: a batch of item rows in, one row per item out.

Each worker is a callable class, built once per actor (the router policy, the tool
runner or the reasoner is loaded in ``__init__``), called with a pyarrow batch of
dataset rows (``ITEM_SCHEMA``), and returns ``{"item_id": [...], "rows": [...]}``:
per item, the JSON list of the rows it adds to its stage's table (none for an item
routed to no tools). The driver writes each returned batch as one part covering
exactly its item ids. Every stage reads the same window of a clip, the tools'
``max_duration_s`` (``item_clip``: only that much is decoded, as the server reads an
upload). A bad clip never fails a batch: it is logged and becomes an error row
(evidence, answers) or an empty route (decisions).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa

from audiorouter.config import ToolsConfig
from audiorouter.contracts import SAMPLE_RATE, AudioQAItem, ReasonerRequest
from audiorouter.data.audio_io import Clip, encode_flac, read_item_clip
from audiorouter.data.importers.predictions import prediction_text
from audiorouter.inference.parts import EVIDENCE, read_decisions
from audiorouter.tool_execution.item_evidence import ItemEvidence, read_evidence

log = logging.getLogger(__name__)


def item_clip(item: AudioQAItem, data_dir: str | Path | None, max_duration_s: float) -> Clip:
    """The window of the item's clip every stage analyses (``tools.max_duration_s``):
    only that much is decoded, as the server reads an upload (``read_item_clip``)."""
    return read_item_clip(item.audio, item.audio_path, data_dir, max_duration_s, f"item {item.id}")


def as_routed(item: AudioQAItem, clip: Clip) -> AudioQAItem:
    """The item as the router sees it: its window as 16 kHz FLAC bytes, which
    ``featurize`` reads and its cache keys (so a window never hits a whole clip's entry)."""
    return replace(item, audio=encode_flac(clip.waveform), audio_path=None, sample_rate=SAMPLE_RATE,
                   duration_s=clip.waveform.size / SAMPLE_RATE)


class StageWorker:
    """Base: turns a batch into items, asks ``rows_for`` and packs the answer."""

    def __call__(self, batch: pa.Table) -> dict[str, list]:
        items = [AudioQAItem.from_row(row) for row in batch.to_pylist()]
        rows = self.rows_for(items)
        return {"item_id": [item.id for item in items],
                "rows": [json.dumps(rows.get(item.id, [])) for item in items]}

    def rows_for(self, items: list[AudioQAItem]) -> dict[str, list[dict[str, Any]]]:
        raise NotImplementedError


class RouteWorker(StageWorker):
    """Items -> one decision row each, from a saved router policy."""

    def __init__(self, policy_dir: str, feature_cache_dir: str | None, data_dir: str | None = None,
                 max_duration_s: float = ToolsConfig.max_duration_s) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the question encoder is a packaged model
        from audiorouter.router.loading import load_router

        self.policy = load_router(policy_dir)
        self.feature_cache_dir = feature_cache_dir
        self.data_dir = data_dir
        self.max_duration_s = max_duration_s

    def rows_for(self, items: list[AudioQAItem]) -> dict[str, list[dict[str, Any]]]:
        routed = []
        for item in items:  # a bad clip is left out of the features: it gets an empty route (no tools)
            try:
                routed.append(as_routed(item, item_clip(item, self.data_dir, self.max_duration_s)))
            except Exception as exc:
                log.warning("left out (bad clip): %s", exc)
        rows = {item.id: [{"item_id": item.id, "tools": [], "log_prob": float("nan")}] for item in items}
        if routed:  # their clips decoded above: routing reads them again (features or the LM's prompt)
            for d in self.policy.route_items(routed, self.feature_cache_dir):
                rows[d.item_id] = [{"item_id": d.item_id, "tools": list(d.tools), "log_prob": d.log_prob}]
        return rows


class ToolsWorker(StageWorker):
    """Items -> one evidence row per tool its decision routed it to (only those)."""

    def __init__(self, out: str, tools_config: Any, data_dir: str | None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        self.decisions = read_decisions(out)
        self.evidence = ItemEvidence(tools_config, data_dir)

    def rows_for(self, items: list[AudioQAItem]) -> dict[str, list[dict[str, Any]]]:
        rows: dict[str, list[dict[str, Any]]] = {}
        for item in items:
            tools = list(self.decisions[item.id].tools)
            if tools:  # a bad clip becomes an error row per tool
                rows[item.id] = self.evidence.rows(item.id, item.audio, item.audio_path, tools)
        return rows


class ReasonWorker(StageWorker):
    """Items with their evidence -> one answer row each, from the configured reasoner."""

    def __init__(self, out: str, reasoner_config: Any, data_dir: str | None,
                 max_duration_s: float = ToolsConfig.max_duration_s) -> None:
        from audiorouter.reasoner import build_reasoner

        self.decisions = read_decisions(out)
        self.evidence = read_evidence(Path(out) / EVIDENCE)
        self.reasoner = build_reasoner(reasoner_config)
        self.data_dir = data_dir
        self.max_duration_s = max_duration_s

    def rows_for(self, items: list[AudioQAItem]) -> dict[str, list[dict[str, Any]]]:
        by_id = {item.id: item for item in items}
        requests, rows = [], {}
        for item in items:
            try:
                waveform = item_clip(item, self.data_dir, self.max_duration_s).waveform
            except Exception as exc:
                rows[item.id] = [answer_row(item, -1, False if item.answer else None, f"bad clip: {exc}", 0.0)]
                continue
            rank = {t: k for k, t in enumerate(self.decisions[item.id].tools)}
            results = sorted(self.evidence.get(item.id, []), key=lambda r: rank.get(r.tool, len(rank)))
            requests.append(ReasonerRequest(item.id, waveform, SAMPLE_RATE, item.question, list(item.choices),
                                            item.answer or None, results))
        for outcome in self.reasoner.answer(requests) if requests else []:
            rows[outcome.item_id] = [answer_row(by_id[outcome.item_id], outcome.chosen_index, outcome.correct,
                                                outcome.error, outcome.latency_ms)]
        return rows


def answer_row(item: AudioQAItem, chosen: int, correct: bool | None, error: str | None,
               latency_ms: float) -> dict[str, Any]:
    return {"item_id": item.id, "chosen_index": int(chosen), "prediction": prediction_text(item.choices, chosen),
            "answer": item.answer or None, "correct": correct, "error": error,
            "latency_ms": float(latency_ms)}
