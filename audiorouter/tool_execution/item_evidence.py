"""Tool results for dataset items: the one home of running tools over items.

    evidence = ItemEvidence(config.tools, data_dir)                          # in this process
    pairs = evidence.results(item_id, audio, audio_path, ["pitch", "tempo"])  # [(ToolResult, cached)]
    rows = evidence.rows(item_id, audio, audio_path, tools)                  # EVIDENCE_SCHEMA rows

    done = prepare_evidence(config.tools, items, tools)                      # on the actor pool

Both read each item's clip the same way (embedded bytes, or a path under ``data_dir``;
only the window the tools analyse, ``tools.max_duration_s``, is decoded, as the server
reads an upload), go through the same content-addressed cache, and turn a clip that
cannot be read into an error result per tool ("bad clip: ..."), never a failed pass.
``ItemEvidence`` runs the tools in the calling process through a ``ToolRunner`` (the
inference tools stage's workers). ``evidence_on_pool`` is the one pass of many items
over the Ray tool-executor pool: ``prepare_evidence`` fills the cache with it before
training and before a study's trials, so rollouts read evidence instead of computing
it, and ``batch.run_batch`` writes a dataset's evidence table with it.
``read_evidence`` reads a stored evidence table (one file, or a folder of parts) back.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from tqdm import tqdm

from audiorouter.config import ToolsConfig
from audiorouter.contracts import EVIDENCE_SCHEMA, SAMPLE_RATE, AudioQAItem, ToolResult
from audiorouter.data.audio_io import Clip, read_item_clip
from audiorouter.tool_execution.executor import ToolExecutorPool
from audiorouter.tool_execution.runner import ToolRunner
from audiorouter.tools.base import error_result
from audiorouter.tools.inputs import ClipLimits, note_window

log = logging.getLogger(__name__)
ItemAudio = tuple[str, bytes | None, str | None]  # an item's id, embedded audio and audio path


def read_or_error(item_id: str, audio: bytes | None, audio_path: str | None, data_dir: str | Path | None,
                  tools: list[str], limits: ClipLimits) -> tuple[Clip | None, list[ToolResult]]:
    """(the clip's window, []) or (None, an error result per tool) when it cannot be
    read. Only the window the tools analyse is decoded (``read_item_clip``); a longer
    clip is refused here with ``long_clips="error"``, as a tool would refuse it."""
    try:
        return read_item_clip(audio, audio_path, data_dir, limits.max_duration_s, f"item {item_id}",
                              limits.long_clips), []
    except Exception as exc:  # a bad clip is an error result per tool, not a failed pass
        log.warning("item %s: %s", item_id, exc)
        return None, [error_result(t, f"bad clip: {exc}") for t in tools]


class ItemEvidence:
    """A tool runner for items of one dataset; picklable settings, one runner per process."""

    def __init__(self, config: ToolsConfig, data_dir: str | Path | None = None) -> None:
        self.runner = ToolRunner.from_config(config)
        self.data_dir = data_dir

    def results(self, item_id: str, audio: bytes | None, audio_path: str | None,
                tools: list[str]) -> list[tuple[ToolResult, bool]]:
        """One (result, whether it came from the cache) per tool, in order; never raises."""
        clip, errors = read_or_error(item_id, audio, audio_path, self.data_dir, tools, self.runner.limits)
        if clip is None:
            return [(e, False) for e in errors]
        return self.runner.run_clip(clip, tools)

    def rows(self, item_id: str, audio: bytes | None, audio_path: str | None, tools: list[str]) -> list[dict[str, Any]]:
        """The item's ``EVIDENCE_SCHEMA`` rows, one per tool."""
        return [result.to_row(item_id, cached) for result, cached in self.results(item_id, audio, audio_path, tools)]


@dataclass
class EvidencePass:
    results: list[ToolResult]
    disabled: dict[str, str]  # tools the pool disabled after repeated crashes (tool -> why)
    requested: int  # (item, tool) pairs asked for
    computed: int  # of which not in the cache: tool runs made
    started_actors: bool  # False when the cache answered every pair (no tool actor was started)


def evidence_on_pool(pool: ToolExecutorPool, items: Iterable[ItemAudio], tools: list[str],
                     data_dir: str | Path | None = None,
                     total: int | None = None) -> Iterator[tuple[str, list[tuple[ToolResult, bool]]]]:
    """Each item's (result, whether it came from the cache) per tool, in order, run on
    ``pool``: ``tools.batch_size`` clips per call, each decoded here as ``ItemEvidence``
    decodes it. A progress bar counts the items (``total`` of them, when known)."""
    items = iter(items)
    with tqdm(total=total, desc="tools", unit="item") as bar:
        while chunk := list(islice(items, pool.config.batch_size)):
            decoded = [read_or_error(item_id, audio, path, data_dir, tools, pool.limits) for item_id, audio, path in chunk]
            ran = iter(pool.run_many_with_cache_flags(
                [(clip.waveform, SAMPLE_RATE) for clip, _ in decoded if clip is not None], tools))
            for (item_id, _, _), (clip, errors) in zip(chunk, decoded, strict=True):
                yield item_id, ([(error, False) for error in errors] if clip is None
                                else [(note_window(result, clip), cached) for result, cached in next(ran)])
            bar.update(len(chunk))


def prepare_evidence(config: ToolsConfig, items: Sequence[AudioQAItem], tools: list[str],
                     data_dir: str | Path | None = None) -> EvidencePass:
    """Run ``tools`` on every item with the Ray tool-executor pool (cached results are
    reused), so rollouts read evidence from the cache instead of computing it. The pool's
    actors only start if some result is not cached yet."""
    with ToolExecutorPool(config, warm=tools, lazy=True) as pool:
        ran = evidence_on_pool(pool, ((i.id, i.audio, i.audio_path) for i in items), tools, data_dir, len(items))
        results = [result for _, pairs in ran for result, _ in pairs]
    return EvidencePass(results, pool.disabled, len(items) * len(tools), pool.stats.computed, pool.launched)


def mean_latency_s(results: Sequence[ToolResult]) -> dict[str, float]:
    """Mean compute time of each tool (the cost unit of ``train.tool_cost_weight``).
    Cached results carry the time they took when they were computed."""
    times: dict[str, list[float]] = defaultdict(list)
    for result in results:
        times[result.tool].append(result.elapsed_ms / 1000.0)
    return {tool: sum(v) / len(v) for tool, v in times.items()}


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
