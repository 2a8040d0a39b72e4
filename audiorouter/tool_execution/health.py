"""Which tools keep crashing: a bounded number of crashes, then the tool is disabled.

A crash is a tool process (or tool actor) that died during a call or a warm-up:
a segfault, an OOM kill. An exception inside a tool is not a crash (``Tool.run``
turns it into an error result). After ``max_crashes`` crashes of one tool, every
later call to it is answered at once with an error result naming the tool and the
last cause, and one warning says so; ``disabled`` is what runs, evaluations and
MLflow record.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from audiorouter.contracts import ToolResult
from audiorouter.tools.base import error_result

log = logging.getLogger(__name__)


@dataclass
class ToolHealth:
    max_crashes: int = 3
    crashes: Counter = field(default_factory=Counter)
    disabled: dict[str, str] = field(default_factory=dict)  # tool -> why

    def record_crash(self, tool: str, cause: str) -> None:
        self.crashes[tool] += 1
        if tool not in self.disabled and self.crashes[tool] >= self.max_crashes:
            self.disabled[tool] = f"crashed {self.crashes[tool]} times; last: {cause}"
            log.warning("tool %s is disabled for the rest of this run: %s", tool, self.disabled[tool])

    def merge(self, disabled: dict[str, str]) -> None:
        """Take over tools another process disabled."""
        for tool, why in disabled.items():
            self.disabled.setdefault(tool, why)

    def refusal(self, tool: str) -> ToolResult | None:
        """The error result of a disabled tool; None when the tool may run."""
        if tool not in self.disabled:
            return None
        return error_result(tool, f"tool {tool} is disabled: {self.disabled[tool]}")
