"""The evaluation shared by ``audiorouter eval`` and the end of a training run.

    report, routed = evaluate_router(policy, items, source, tools, allowed, split="test",
                                     reasoner="reference reasoner", out_dir=Path("runs/eval"))

1. route every item with the trained router (greedy), and with the policies it brings
   that need no training (an LM router's prompted self, without its adapter);
2. build the outcome table over every subset any policy may pick (no tools, each
   tool, all tools, the router's subsets, the oracle's search space);
3. score no tools, all tools, each single tool, the best single tool, random routing
   matched to the router's tool rate, the router and the oracle -- overall, per task
   family, per category, per sub-category, per difficulty, with tools and tool time
   per item;
4. compare the router with each baseline by a paired bootstrap;
5. write ``report.txt``, ``report.json``, ``accuracy_by_task.png`` and ``tool_usage.png``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audiorouter.config import ReasonerConfig
from audiorouter.contracts import AudioQAItem
from audiorouter.evaluation.plots import accuracy_by_task, tool_usage
from audiorouter.evaluation.report import (
    EvaluationReport,
    ItemGroups,
    PolicyResult,
    baseline_choices,
    policy_result,
    score,
)
from audiorouter.evaluation.stats import paired_bootstrap, random_matched
from audiorouter.outcomes.base import OutcomeSource
from audiorouter.outcomes.table import OutcomeTable, Subset, build_outcome_table, candidate_subsets
from audiorouter.router.actions import ActionSpace
from audiorouter.router.loading import Router

log = logging.getLogger(__name__)
OUTPUT_FILES = ("report.txt", "report.json", "accuracy_by_task.png", "tool_usage.png")


ORACLE_MAX_TOOLS = 2  # per_tool routers: the oracle searches subsets of up to this size


def oracle_subsets(actions: ActionSpace) -> list[tuple[str, ...]]:
    if actions.kind == "subsets":
        return list(actions.subsets)
    return [s for s in ActionSpace(actions.tools, "subsets", ORACLE_MAX_TOOLS).subsets]


def reasoner_label(config: ReasonerConfig) -> str:
    """Which reasoner produced a table's numbers: the reference program, or the model and
    how it answered (e.g. "cascade reasoner (qwen2.5-coder-1.5b, letter scoring)")."""
    reasoner = config
    if reasoner.backend == "reference":
        return "reference reasoner"
    from audiorouter.reasoner.model_backend import (
        resolve_answering,  # torch and transformers: only for models
    )

    answering = resolve_answering(reasoner)
    how = f"{answering.score_target} scoring" if answering.answer_mode == "score" else "generated answers"
    if answering.answer_mode == "score" and answering.calibration != "none":
        how += f", {answering.calibration.replace('_', '-')} calibration"
    return f"{reasoner.backend} reasoner ({reasoner.model}, {how})"


@dataclass
class EvalSettings:
    resamples: int = 2000  # paired bootstrap resamples
    random_draws: int = 32  # random routings averaged per item
    seed: int = 0
    feature_cache_dir: str | None = None


def route_items(policy: Router, items: Sequence[AudioQAItem], cache_dir: str | None) -> list[Subset]:
    """The router's greedy subset per item (sorted tool names)."""
    return [tuple(sorted(d.tools)) for d in policy.route_items(items, cache_dir)]


def score_policies(table: OutcomeTable, routed: Sequence[Subset], tools: Sequence[str], allowed: Sequence[Subset],
                   groups: ItemGroups | None, tool_ms: np.ndarray | None, settings: EvalSettings,
                   training_free: dict[str, Sequence[Subset]] | None = None) -> tuple[list[PolicyResult], list]:
    """Every policy's row, and the router's paired comparisons with the baselines;
    ``training_free``: more policies that need no training (name -> subset per item, e.g.
    the prompted router), each a row and a comparison."""
    n = len(table.item_ids)
    row = dict(tools=tools, groups=groups, tool_ms=tool_ms)
    choices = baseline_choices(table, tools, allowed)
    no_tools, all_tools, best, oracle = (policy_result(name, table, chosen, note=note, **row)
                                         for name, (chosen, note) in choices.items())
    singles = [policy_result(f"only {t}", table, [(t,)] * n, **row) for t in tools]
    draws = random_matched(routed, settings.random_draws, settings.seed)
    random_correct = np.mean([table.correct_for(d) for d in draws], axis=0)
    random = score("random routing", random_correct, routed, tasks=table.tasks, note="router's tool rate", **row)
    router = policy_result("trained router", table, routed, **row)
    extra = {name: list(chosen) for name, chosen in (training_free or {}).items()}
    policies = [no_tools, all_tools, *singles, best, *(policy_result(name, table, chosen, **row)
                                                        for name, chosen in extra.items()), random, router, oracle]

    router_correct = table.correct_for(routed)
    correct = {name: table.correct_for(chosen) for name, (chosen, _) in choices.items()}
    baselines = {"no tools": correct["no tools"], "all tools": correct["all tools"],
                 f"best single tool ({best.note})": correct["best single tool"],
                 **{name: table.correct_for(chosen) for name, chosen in extra.items()},
                 "random routing": random_correct, "oracle routing": correct["oracle routing"]}
    comparisons = [paired_bootstrap(router_correct, base, name, settings.resamples, seed=settings.seed)
                   for name, base in baselines.items()]
    return policies, comparisons


def evaluate_router(policy: Router, items: Sequence[AudioQAItem], source: OutcomeSource,
                    tools: Sequence[str], allowed: Sequence[Subset], split: str, reasoner: str, out_dir: Path,
                    settings: EvalSettings | None = None,
                    training_free: dict[str, Router] | None = None) -> tuple[EvaluationReport, list[Subset]]:
    """Route, build the outcome table, score every policy, write the report files.
    ``training_free``: policies that need no training reported beside the constant lines,
    besides the router's own (an LM router's prompted self)."""
    settings = settings or EvalSettings()
    ids, tasks = [i.id for i in items], [i.task for i in items]
    routed = route_items(policy, items, settings.feature_cache_dir)
    lines = {name: route_items(line, items, settings.feature_cache_dir)
             for name, line in (policy.training_free_lines() | (training_free or {})).items()}
    asked = list(allowed) + routed + [s for chosen in lines.values() for s in chosen]
    table = build_outcome_table(source, ids, tasks, candidate_subsets(tools, asked))
    groups = ItemGroups([i.category for i in items], [i.difficulty or "unknown" for i in items],
                        [i.sub_category or "unknown" for i in items])
    tool_ms = source.tool_ms(ids, list(tools))
    policies, comparisons = score_policies(table, routed, tools, allowed, groups, tool_ms, settings, lines)
    report = EvaluationReport(split, len(items), reasoner, policies, comparisons, source.disabled_tools())
    write_outputs(report, tasks, routed, tools, out_dir)
    return report, routed


def write_outputs(report: EvaluationReport, tasks: Sequence[str], routed: Sequence[Subset], tools: Sequence[str],
                  out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.txt").write_text(report.render() + "\n")
    (out_dir / "report.json").write_text(report.to_json())
    accuracy_by_task(report, out_dir / "accuracy_by_task.png")
    tool_usage(tasks, routed, tools, out_dir / "tool_usage.png")
    return [out_dir / name for name in OUTPUT_FILES]
