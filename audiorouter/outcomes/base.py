"""The outcome interface: the reasoner's correctness for (item, tool subset) pairs.

    outcomes = source.outcomes(item_ids, subsets)   # one Outcome per pair, batched

A source must pickle (it travels to rollout workers and study trials), so it holds
names and paths and opens heavier resources lazily.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

import numpy as np


@dataclass
class Outcome:
    """The reasoner's correctness for one (item, subset), with and without evidence."""

    correct_with: bool
    correct_without: bool


class OutcomeSource(abc.ABC):
    @abc.abstractmethod
    def outcomes(self, item_ids: list[str], subsets: list[tuple[str, ...]]) -> list[Outcome]:
        """The reasoner's outcomes with the given evidence and without any, batched."""

    def tool_ms(self, item_ids: list[str], tools: list[str]) -> np.ndarray | None:
        """(items, tools) compute time of each tool's result in ms; None when the source
        runs no real tools (stand-ins, tables of outcomes)."""
        return None

    def stats(self) -> dict[str, float]:
        """Monotone counters for metrics (e.g. reasoner calls made, served from memo)."""
        return {}

    def disabled_tools(self) -> dict[str, str]:
        """Tools disabled after repeated crashes (tool -> why); their evidence is an error."""
        return {}

    def check_ready(self) -> None:
        """Open, here, what every worker using this source opens first; raise what would
        stop every one of them (a damaged state file). Nothing to open by default."""
        return None
