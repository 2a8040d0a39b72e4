"""Reasoner evaluation: accuracy of a reasoner per task family under three evidence conditions.

    audiorouter --set reasoner.backend=cascade --set reasoner.model=smollm2 \
        reason eval data/perception --split test

Each condition is a tool subset, asked through the outcome pipeline like every outcome
(``outcomes.pipeline``: tool results from the shared cache, answers memoised and batched,
the reasoner hosted as the config says): ``none`` (no tools), ``matching`` (the tool that
measures what the family asks, ``audiorouter.tools.accuracy.MATCHING_TOOL``; no tools for
a family without one) and ``all`` (every tool the config enables, all available ones by
default). The split is read in chunks of ``ITEMS_PER_CALL`` items, each one reasoner call
with all its conditions, so memory holds one chunk. ``evaluate`` returns family ->
condition -> accuracy (with the item counts).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path

from audiorouter.config import Config
from audiorouter.contracts import AudioQAItem
from audiorouter.data.items import iter_items
from audiorouter.evaluation.evaluate import reasoner_label
from audiorouter.evaluation.stats import wilson_interval
from audiorouter.outcomes.pipeline import PipelineOutcomeSource, PipelineSourceSpec, host_configured_reasoner
from audiorouter.outcomes.table import Subset
from audiorouter.tools import load_tool_plugins, resolve_tools
from audiorouter.tools.accuracy import MATCHING_TOOL

log = logging.getLogger(__name__)

CONDITIONS = ("none", "matching", "all")
ITEMS_PER_CALL = 16  # items answered in one reasoner call (each with every condition)


def condition_subset(condition: str, task: str, tools: Sequence[str]) -> Subset:
    """The tools whose results are the evidence of ``condition`` for an item of ``task``."""
    if condition == "none":
        return ()
    if condition == "matching":
        matching = MATCHING_TOOL.get(task)
        return (matching,) if matching in tools else ()
    return tuple(sorted(tools))


def chunks(items: Iterable[AudioQAItem], size: int) -> Iterator[list[AudioQAItem]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def accuracy_by_family(source: PipelineOutcomeSource, items: Iterable[AudioQAItem], tools: Sequence[str],
                       conditions: Sequence[str] = CONDITIONS, items_per_call: int = ITEMS_PER_CALL) -> dict[str, dict]:
    """family -> condition -> accuracy, and an ``ALL`` row with 95% Wilson intervals
    (``<condition>_ci95``). ``items_per_call`` items go to the source together (all their
    conditions), so a model shares the spans their prompts have in common."""
    correct: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    counts: dict[str, int] = defaultdict(int)
    start, done = time.monotonic(), 0
    for chunk in chunks(items, items_per_call):
        source.use_items(chunk)
        ids = [item.id for item in chunk for _ in conditions]
        subsets = [condition_subset(c, item.task, tools) for item in chunk for c in conditions]
        outcomes = iter(source.outcomes(ids, subsets))
        for item in chunk:
            for condition in conditions:
                correct[item.task][condition] += int(next(outcomes).correct_with)
            counts[item.task] += 1
        done += len(chunk)
        log.info("reason eval: %d items, %.0f s", done, time.monotonic() - start)
    if not counts:
        raise ValueError("no items to evaluate")
    table: dict[str, dict] = {f: {c: round(correct[f][c] / counts[f], 3) for c in conditions} | {"n": counts[f]}
                              for f in sorted(counts)}
    total = sum(counts.values())
    right = {c: sum(correct[f][c] for f in counts) for c in conditions}
    table["ALL"] = {c: round(right[c] / total, 3) for c in conditions} | {"n": total}
    table["ALL"] |= {f"{c}_ci95": [round(v, 3) for v in wilson_interval(right[c], total)] for c in conditions}
    return table


def evaluate(cfg: Config, data_dir: str | Path, split: str = "test", conditions: tuple[str, ...] = CONDITIONS) -> dict:
    """``{"reasoner", "split", "tools", "accuracy": family -> condition -> accuracy}`` for one split."""
    unknown = [c for c in conditions if c not in CONDITIONS]
    if unknown:
        raise ValueError(f"unknown evidence condition {unknown[0]!r}; valid: {', '.join(CONDITIONS)}")
    load_tool_plugins(cfg.tools.plugins)
    tools = resolve_tools(cfg.tools.enabled or None)
    hosted = host_configured_reasoner(cfg)
    try:
        source = PipelineOutcomeSource(PipelineSourceSpec.from_config(cfg, str(data_dir), (split,), (),
                                                                      local_memo=False))
        table = accuracy_by_family(source, iter_items(data_dir, split), tools, conditions)
    finally:
        if hosted is not None:
            hosted.stop()
    return {"reasoner": reasoner_label(cfg.reasoner), "split": split, "tools": tools, "accuracy": table}
