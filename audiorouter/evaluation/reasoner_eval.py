"""Reasoner evaluation: accuracy of a reasoner per task family under three evidence conditions.

    audiorouter --set reasoner.backend=cascade --set reasoner.model=smollm2 \
        reason eval data/perception --split test --evidence-cache runs/test_evidence.json

Conditions: ``none`` (no evidence), ``matching`` (the result of the tool that measures
what the family asks, ``audiorouter.tools.accuracy.MATCHING_TOOL``), ``all`` (every
available tool's result, in the
one rendering with its token budget). Tool results are computed once per clip with
``tools.item_evidence`` through the shared result cache (``tools.cache_dir``'s default)
and can be kept in a JSON file for reuse (``--evidence-cache``).
``evaluate`` returns family -> condition -> accuracy (with the item counts).
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path

from audiorouter.config import ReasonerConfig, ToolsConfig
from audiorouter.contracts import AudioQAItem, ReasonerRequest, ToolResult
from audiorouter.data.audio_io import decode_item_audio
from audiorouter.data.items import iter_items
from audiorouter.evaluation.stats import wilson_interval
from audiorouter.reasoner.memo import build_reasoner
from audiorouter.tools import available_tools
from audiorouter.tools.accuracy import MATCHING_TOOL
from audiorouter.tools.item_evidence import ItemEvidence

log = logging.getLogger(__name__)

CONDITIONS = ("none", "matching", "all")
ITEMS_PER_CALL = 16  # items answered in one reasoner call (each with every condition)


def tool_evidence(items: list[AudioQAItem], cache_path: Path | None, tools_config: ToolsConfig | None = None,
                  data_dir: str | Path | None = None) -> dict[str, list[ToolResult]]:
    """item id -> every available tool's result (read from / added to ``cache_path``),
    run with ``tools_config`` (its cache, timeouts and clip limits; default: defaults)."""
    runner = ItemEvidence(tools_config or ToolsConfig(), data_dir)
    cached = json.loads(cache_path.read_text()) if cache_path and cache_path.is_file() else {}
    names = available_tools()
    for item in items:
        if item.id not in cached:
            cached[item.id] = [asdict(r) for r, _ in runner.results(item.id, item.audio, item.audio_path, names)]
    if cache_path:
        cache_path.write_text(json.dumps(cached))
    return {i: [ToolResult(**r) for r in results] for i, results in cached.items()}


def requests_for(item: AudioQAItem, condition: str, results: list[ToolResult], waveform, sr: int) -> ReasonerRequest:
    if condition == "none":
        evidence = []
    elif condition == "matching":
        evidence = [r for r in results if r.tool == MATCHING_TOOL.get(item.task)]
    else:
        evidence = list(results)
    return ReasonerRequest(item.id, waveform, sr, item.question, item.choices, item.answer, evidence)


def accuracy_by_family(reasoner, items: list[AudioQAItem], evidence: dict[str, list[ToolResult]],
                       conditions=CONDITIONS, data_dir: str | Path | None = None,
                       items_per_call: int = ITEMS_PER_CALL) -> dict[str, dict]:
    """family -> condition -> accuracy, and an ``ALL`` row with 95% Wilson intervals
    (``<condition>_ci95``). ``items_per_call`` items go to the reasoner together (all
    their conditions), so a model shares the spans their prompts have in common."""
    correct: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    counts: dict[str, int] = defaultdict(int)
    start = time.monotonic()
    for begin in range(0, len(items), items_per_call):
        chunk = items[begin : begin + items_per_call]
        requests = []
        for item in chunk:
            waveform, sr = decode_item_audio(item.audio, item.audio_path, data_dir, f"item {item.id}")
            requests += [requests_for(item, c, evidence.get(item.id, []), waveform, sr) for c in conditions]
        outcomes = iter(reasoner.answer(requests))
        for item in chunk:
            for condition in conditions:
                correct[item.task][condition] += int(bool(next(outcomes).correct))
            counts[item.task] += 1
        done = begin + len(chunk)
        log.info("reason eval: %d/%d items, %.0f s", done, len(items), time.monotonic() - start)
    table: dict[str, dict] = {f: {c: round(correct[f][c] / counts[f], 3) for c in conditions} | {"n": counts[f]}
                              for f in sorted(counts)}
    total = sum(counts.values())
    right = {c: sum(correct[f][c] for f in counts) for c in conditions}
    table["ALL"] = {c: round(right[c] / total, 3) for c in conditions} | {"n": total}
    table["ALL"] |= {f"{c}_ci95": [round(v, 3) for v in wilson_interval(right[c], total)] for c in conditions}
    return table


def evaluate(config: ReasonerConfig, data_dir: str | Path, split: str = "test",
             conditions: tuple[str, ...] = CONDITIONS, evidence_cache: Path | None = None,
             tools_config: ToolsConfig | None = None) -> dict:
    """``{"reasoner", "split", "accuracy": family -> condition -> accuracy}`` for one split."""
    unknown = [c for c in conditions if c not in CONDITIONS]
    if unknown:
        raise ValueError(f"unknown evidence condition {unknown[0]!r}; valid: {', '.join(CONDITIONS)}")
    items = list(iter_items(data_dir, split))
    evidence = tool_evidence(items, evidence_cache, tools_config, data_dir) if set(conditions) - {"none"} else {}
    reasoner = build_reasoner(config)
    table = accuracy_by_family(reasoner, items, evidence, conditions, data_dir)
    return {"reasoner": reasoner.reasoner_id, "split": split, "accuracy": table}
