"""Accuracy of routing policies on one outcome table: overall, per task family, per
category, per sub-category (the benchmarks' own main breakdown) and per difficulty,
tools and tool time per item, and paired bootstrap comparisons of the router against
each baseline."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from audiorouter.evaluation.stats import PairedComparison
from audiorouter.outcomes.table import OutcomeTable, Subset

# Policies shown as columns of the breakdown tables (single-tool rows stay in the main table).
SUMMARY_POLICIES = ("no tools", "all tools", "best single tool", "random routing", "trained router",
                    "oracle routing")


@dataclass
class ItemGroups:
    """What each item belongs to, in table row order (for the breakdowns)."""

    category: list[str]
    difficulty: list[str]
    sub_category: list[str]


@dataclass
class PolicyResult:
    name: str
    accuracy: float
    tools_per_item: float
    per_task: dict[str, float]
    tool_rate: dict[str, float]  # fraction of items each tool was called for
    note: str = ""
    per_category: dict[str, float] = field(default_factory=dict)
    per_difficulty: dict[str, float] = field(default_factory=dict)
    per_sub_category: dict[str, float] = field(default_factory=dict)
    tool_ms_per_item: float | None = None  # mean compute time of the chosen tools; None: unknown


@dataclass
class EvaluationReport:
    split: str
    items: int
    reasoner: str  # e.g. "reference reasoner"
    policies: list[PolicyResult] = field(default_factory=list)
    comparisons: list[PairedComparison] = field(default_factory=list)  # trained router vs baselines
    disabled_tools: dict[str, str] = field(default_factory=dict)  # tool -> why (crashed repeatedly)

    def policy(self, name: str) -> PolicyResult:
        return next(p for p in self.policies if p.name == name)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    def metrics(self) -> dict[str, float]:
        """Flat metrics for MLflow: each policy's accuracy and tools per item, and the
        router's paired differences with their intervals."""
        out = {f"eval/{p.name.replace(' ', '_')}": p.accuracy for p in self.policies}
        out |= {f"eval/{p.name.replace(' ', '_')}_tools_per_item": p.tools_per_item for p in self.policies}
        for c in self.comparisons:
            key = c.baseline.split(" (")[0].replace(" ", "_")
            out |= {f"delta/{key}": c.delta, f"delta/{key}_ci_low": c.ci_low, f"delta/{key}_ci_high": c.ci_high}
        return out

    def render(self) -> str:
        lines = [f"{self.reasoner}, {self.split} split, {self.items} items", "",
                 f"{'policy':<38}{'accuracy':>10}{'tools/item':>12}{'tool ms/item':>14}"]
        for p in self.policies:
            label = p.name + (f" ({p.note})" if p.note else "")
            ms = "-" if p.tool_ms_per_item is None else f"{p.tool_ms_per_item:.1f}"
            lines.append(f"{label:<38}{p.accuracy:>10.3f}{p.tools_per_item:>12.2f}{ms:>14}")
        if self.comparisons:
            lines += ["", f"trained router vs baseline (paired bootstrap, {self.comparisons[0].resamples} resamples)",
                      f"{'baseline':<32}{'delta':>8}{'95% CI':>20}{'p':>8}"]
            lines += [f"{c.baseline:<32}{c.delta:>+8.3f}{f'[{c.ci_low:+.3f}, {c.ci_high:+.3f}]':>20}{c.p_value:>8.3f}"
                      for c in self.comparisons]
        for title, attr in (("task family", "per_task"), ("category", "per_category"),
                            ("sub-category", "per_sub_category"), ("difficulty", "per_difficulty")):
            lines += ["", *self.breakdown(title, attr)]
        if self.disabled_tools:
            lines += ["", "tools disabled during the run (their evidence was an error result):"]
            lines += [f"  {tool}: {why}" for tool, why in sorted(self.disabled_tools.items())]
        return "\n".join(lines)

    def breakdown(self, title: str, attr: str) -> list[str]:
        """One row per group value, one column per summary policy."""
        shown = [p for p in self.policies if p.name in SUMMARY_POLICIES]
        keys = sorted({k for p in shown for k in getattr(p, attr)})
        if not keys:
            return []
        width = max(len(title), *(len(k) for k in keys)) + 2
        header = f"{'accuracy by ' + title:<{width + 12}}" + "".join(f"{_short(p.name):>12}" for p in shown)
        rows = [f"{k:<{width + 12}}" + "".join(f"{getattr(p, attr).get(k, float('nan')):>12.3f}" for p in shown)
                for k in keys]
        return [header, *rows]


def _short(name: str) -> str:
    return {"best single tool": "best 1 tool", "random routing": "random", "trained router": "router",
            "oracle routing": "oracle"}.get(name, name)


def _by(values: np.ndarray, labels: Sequence[str]) -> dict[str, float]:
    labels = np.asarray(labels)
    return {k: float(values[labels == k].mean()) for k in sorted(set(labels.tolist()))}


def score(name: str, correct: np.ndarray, chosen: Sequence[Subset], tools: Sequence[str], tasks: Sequence[str],
          groups: ItemGroups | None = None, tool_ms: np.ndarray | None = None, note: str = "") -> PolicyResult:
    """A policy's row from its per-item correctness (bool, or float for averaged
    random policies) and chosen subsets. ``tool_ms``: (items, tools) compute time."""
    correct = np.asarray(correct, dtype=float)
    rate = {t: float(np.mean([t in s for s in chosen])) for t in tools}
    ms = None
    if tool_ms is not None:
        column = {t: j for j, t in enumerate(tools)}
        ms = float(np.mean([sum(tool_ms[i, column[t]] for t in s) for i, s in enumerate(chosen)]))
    return PolicyResult(
        name, float(correct.mean()), float(np.mean([len(s) for s in chosen])), _by(correct, tasks), rate, note,
        per_category=_by(correct, groups.category) if groups else {},
        per_difficulty=_by(correct, groups.difficulty) if groups else {},
        per_sub_category=_by(correct, groups.sub_category) if groups else {},
        tool_ms_per_item=ms,
    )


def policy_result(name: str, table: OutcomeTable, chosen: Sequence[Subset], tools: Sequence[str],
                  note: str = "", groups: ItemGroups | None = None, tool_ms: np.ndarray | None = None) -> PolicyResult:
    return score(name, table.correct_for(chosen), chosen, tools, table.tasks, groups, tool_ms, note)


def best_single_tool(table: OutcomeTable, tools: Sequence[str]) -> str:
    """The tool whose evidence alone answers most items right; a tie goes to the tool
    listed first in ``tools``. This is the one tie-break of every baseline (the CLI's
    reports, training's and the study's constant lines)."""
    n = len(table.item_ids)
    return max(tools, key=lambda t: (table.correct_for([(t,)] * n).mean(), -list(tools).index(t)))


def baseline_choices(table: OutcomeTable, tools: Sequence[str],
                     allowed: Sequence[Subset] | None) -> dict[str, tuple[list[Subset], str]]:
    """Policy name -> (the subset it gives each item, note) for no tools, all tools, the
    best single tool and, unless ``allowed`` is None, the per-item oracle over ``allowed``."""
    n = len(table.item_ids)
    best = best_single_tool(table, tools)
    choices = {"no tools": ([()] * n, ""), "all tools": ([tuple(sorted(tools))] * n, ""),
               "best single tool": ([(best,)] * n, best)}
    if allowed is not None:
        choices["oracle routing"] = (table.oracle(allowed), "")
    return choices


def baseline_policies(table: OutcomeTable, tools: Sequence[str], allowed: Sequence[Subset],
                      groups: ItemGroups | None = None, tool_ms: np.ndarray | None = None) -> list[PolicyResult]:
    """No tools, all tools, the best single tool, and the oracle over ``allowed``."""
    return [policy_result(name, table, chosen, tools, note, groups, tool_ms)
            for name, (chosen, note) in baseline_choices(table, tools, allowed).items()]
