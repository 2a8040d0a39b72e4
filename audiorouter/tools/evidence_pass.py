"""Filling the tool cache before training: every tool on every item, on the executor pool."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from tqdm import tqdm

from audiorouter.config import ToolsConfig
from audiorouter.contracts import AudioQAItem, ToolResult
from audiorouter.data.audio_io import decode_audio
from audiorouter.tools.executor import ToolExecutorPool

CLIPS_PER_CALL = 16


@dataclass
class EvidencePass:
    results: list[ToolResult]
    disabled: dict[str, str]  # tools the pool disabled after repeated crashes (tool -> why)
    requested: int  # (item, tool) pairs asked for
    computed: int  # of which not in the cache: tool runs made


def prepare_evidence(config: ToolsConfig, items: Sequence[AudioQAItem], tools: list[str]) -> EvidencePass:
    """Run ``tools`` on every item with the Ray tool-executor pool (cached results are
    reused), so rollouts read evidence from the cache instead of computing it."""
    pool = ToolExecutorPool(config, warm=tools)
    results: list[ToolResult] = []
    try:
        for start in tqdm(range(0, len(items), CLIPS_PER_CALL), desc="tools", unit="batch"):
            clips = [decode_audio(item.audio) for item in items[start : start + CLIPS_PER_CALL]]
            for per_clip in pool.run_many(clips, tools):
                results.extend(per_clip)
    finally:
        pool.shutdown()
    return EvidencePass(results, pool.disabled, len(items) * len(tools), pool.stats.computed)


def mean_latency_s(results: Sequence[ToolResult]) -> dict[str, float]:
    """Mean compute time of each tool (the cost unit of ``train.tool_cost_weight``).
    Cached results carry the time they took when they were computed."""
    times: dict[str, list[float]] = defaultdict(list)
    for result in results:
        times[result.tool].append(result.elapsed_ms / 1000.0)
    return {tool: sum(v) / len(v) for tool, v in times.items()}
