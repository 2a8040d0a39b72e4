"""Action spaces of the router: how an RL action maps to a tuple of tool names.

Two kinds, chosen by ``router.action_space``:

* ``subsets`` -- one choice among an enumerated list of allowed tool subsets, the empty
  subset ("no tool") first, then every subset of at most ``max_tools`` tools in
  order of size: ``Discrete(len(subsets))``.
* ``per_tool`` -- one on/off switch per tool: ``MultiDiscrete([2] * n_tools)``;
  all switches off is "no tool".

A tool tuple always lists tools in the order of ``ActionSpace.tools``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import gymnasium as gym
import numpy as np

KINDS = ("subsets", "per_tool")


@dataclass(frozen=True)
class ActionSpace:
    """Maps actions <-> tool-name tuples for one kind and one ordered tool list."""

    tools: tuple[str, ...]
    kind: str = "subsets"
    max_tools: int = 0  # subsets: most tools in one subset; 0 means no cap
    _subsets: tuple[tuple[str, ...], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"action space kind {self.kind!r} unknown; valid: {', '.join(KINDS)}")
        if not self.tools:
            raise ValueError("an action space needs at least one tool")
        if len(set(self.tools)) != len(self.tools):
            raise ValueError(f"duplicate tool names in {self.tools}")
        if self.max_tools < 0:
            raise ValueError(f"max_tools must be >= 0, got {self.max_tools}")
        object.__setattr__(self, "tools", tuple(self.tools))
        cap = len(self.tools) if self.kind == "per_tool" or self.max_tools == 0 else self.max_tools
        subsets = tuple(c for k in range(min(cap, len(self.tools)) + 1) for c in combinations(self.tools, k))
        object.__setattr__(self, "_subsets", subsets)

    # ------------------------------------------------------------------ spaces

    @property
    def subsets(self) -> tuple[tuple[str, ...], ...]:
        """Every tool tuple an action can name (the empty tuple first)."""
        return self._subsets

    def gym_space(self) -> gym.Space:
        if self.kind == "subsets":
            return gym.spaces.Discrete(len(self._subsets))
        return gym.spaces.MultiDiscrete([2] * len(self.tools))

    @property
    def num_logits(self) -> int:
        """Width of the policy's output: one logit per subset, or two per tool."""
        return len(self._subsets) if self.kind == "subsets" else 2 * len(self.tools)

    # ----------------------------------------------------------------- mapping

    def to_tools(self, action: Any) -> tuple[str, ...]:
        """The tool tuple one action names."""
        if self.kind == "subsets":
            return self._subsets[int(action)]
        switches = np.asarray(action).reshape(-1)
        if switches.shape[0] != len(self.tools):
            raise ValueError(f"per-tool action needs {len(self.tools)} switches, got {switches.shape[0]}")
        return tuple(t for t, on in zip(self.tools, switches, strict=True) if int(on))

    def to_action(self, tools: tuple[str, ...] | list[str]) -> int | np.ndarray:
        """The action that names ``tools`` (any order); an error if it is not allowed."""
        unknown = sorted(set(tools) - set(self.tools))
        if unknown:
            raise ValueError(f"unknown tools {unknown}; valid: {', '.join(self.tools)}")
        ordered = tuple(t for t in self.tools if t in set(tools))
        if self.kind == "per_tool":
            return np.array([int(t in ordered) for t in self.tools], dtype=np.int64)
        try:
            return self._subsets.index(ordered)
        except ValueError:
            raise ValueError(f"subset {ordered} exceeds the cap of {self.max_tools} tools per call") from None

    def greedy(self, logits: np.ndarray) -> list[tuple[str, ...]]:
        """The most likely tool tuple for each row of ``logits`` (shape (N, num_logits))."""
        logits = np.asarray(logits)
        if self.kind == "subsets":
            return [self._subsets[i] for i in logits.argmax(axis=-1)]
        switches = logits.reshape(len(logits), len(self.tools), 2).argmax(axis=-1)
        return [self.to_tools(row) for row in switches]

    # ------------------------------------------------------------ persistence

    def to_dict(self) -> dict[str, Any]:
        return {"tools": list(self.tools), "kind": self.kind, "max_tools": self.max_tools}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ActionSpace:
        return cls(tools=tuple(raw["tools"]), kind=raw["kind"], max_tools=int(raw.get("max_tools", 0)))
