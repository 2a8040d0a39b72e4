"""Accuracy of routing policies on one outcome table, overall and per task family."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from audiorouter.evaluation.outcomes import OutcomeTable, Subset


@dataclass
class PolicyResult:
    name: str
    accuracy: float
    tools_per_item: float
    per_task: dict[str, float]
    tool_rate: dict[str, float]  # fraction of items each tool was called for
    note: str = ""


@dataclass
class EvaluationReport:
    split: str
    items: int
    reasoner: str  # e.g. "reference reasoner"
    policies: list[PolicyResult] = field(default_factory=list)

    def policy(self, name: str) -> PolicyResult:
        return next(p for p in self.policies if p.name == name)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    def render(self) -> str:
        lines = [f"{self.reasoner}, {self.split} split, {self.items} items", "",
                 f"{'policy':<28}{'accuracy':>10}{'tools/item':>12}"]
        lines += [f"{p.name + (' (' + p.note + ')' if p.note else ''):<28}{p.accuracy:>10.3f}{p.tools_per_item:>12.2f}"
                  for p in self.policies]
        return "\n".join(lines)


def policy_result(name: str, table: OutcomeTable, chosen: Sequence[Subset], tools: Sequence[str],
                  note: str = "") -> PolicyResult:
    correct = table.correct_for(chosen)
    tasks = np.array(table.tasks)
    per_task = {t: float(correct[tasks == t].mean()) for t in sorted(set(table.tasks))}
    rate = {t: float(np.mean([t in s for s in chosen])) for t in tools}
    return PolicyResult(name, float(correct.mean()), float(np.mean([len(s) for s in chosen])), per_task, rate, note)


def baseline_policies(table: OutcomeTable, tools: Sequence[str], allowed: Sequence[Subset]) -> list[PolicyResult]:
    """No tools, all tools, the best single tool, and the oracle over ``allowed``."""
    n = len(table.item_ids)
    every = tuple(sorted(tools))
    singles = [policy_result(t, table, [(t,)] * n, tools) for t in tools]
    best = max(singles, key=lambda p: p.accuracy)
    return [
        policy_result("no tools", table, [()] * n, tools),
        policy_result("all tools", table, [every] * n, tools),
        PolicyResult("best single tool", best.accuracy, 1.0, best.per_task, best.tool_rate, note=best.name),
        policy_result("oracle routing", table, table.oracle(allowed), tools),
    ]
