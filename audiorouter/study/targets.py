"""Which accuracy targets a scaling study asks about, and which it may not.

A target only measures learning when a policy that needs no training does not already
meet it. The **training-free line** is the best constant line that learns nothing:
no tools, all tools, the best single tool, or, in a study with ``router-lm``, the
prompted router (``TRAINING_FREE``). Oracle routing (the
best tool subset per item, chosen with the answers) is the ceiling routing can reach.
The default targets lie in the gap between them::

    target(f) = line + f * (oracle - line)        f in study.gap_fractions (0.25, 0.5, 0.75)

plus ``plateau_fraction`` of the reference router's plateau. A target at or below the
line (a configured absolute one, or the plateau target of a router that learns nothing
the line does not have) is kept in the tables as "met without training by <method>",
never turned into a data-efficiency ratio. The same rule recomputes the targets in
every bootstrap resample (``gap_target``), so their own uncertainty is in the intervals.

Imports: nothing of the project.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

PROMPTED_LINE = "prompted-router"  # router-lm's untrained point: the LM asked, no training (study.results)
TRAINING_FREE = ("no-tools", "all-tools", "best-single-tool", PROMPTED_LINE)
ORACLE = "oracle-routing"

ABSOLUTE, GAP, PLATEAU = "absolute", "gap", "plateau"


@dataclass
class Target:
    label: str  # "0.700", "50% of the gap to oracle-routing" or "95% of router-ppo plateau"
    accuracy: float
    kind: str = ABSOLUTE  # ABSOLUTE, GAP or PLATEAU: how resamples recompute it
    fraction: float | None = None  # of the gap (GAP) or of the plateau (PLATEAU)
    met_without_training: str | None = None  # the training-free method already at or above it

    @property
    def text(self) -> str:
        """How tables and legends name the target: "a = 0.700 (50% of the gap to oracle-routing)"."""
        return f"a = {self.accuracy:.3f}" + ("" if self.kind == ABSOLUTE else f" ({self.label})")


@dataclass
class Line:
    method: str
    accuracy: float


def training_free_line(constants: Mapping[str, float]) -> Line | None:
    """The best constant line that needs no training, or None when none was measured."""
    present = [(accuracy, method) for method, accuracy in constants.items() if method in TRAINING_FREE]
    if not present:
        return None
    accuracy, method = max(present)
    return Line(method, accuracy)


def gap_target(line: np.ndarray | float, oracle: np.ndarray | float, fraction: float):
    """``line + fraction * (oracle - line)``; at the line itself where oracle is not above it."""
    return line + fraction * np.maximum(np.asarray(oracle) - line, 0.0)


def study_targets(constants: Mapping[str, float], plateau: float, absolute: Sequence[float],
                  gap_fractions: Sequence[float], plateau_fraction: float, ref_method: str) -> list[Target]:
    """The study's targets in table order: gap targets (when the line and oracle routing
    were measured and the oracle lies above the line), configured absolute ones, then the
    plateau target; each marked when the training-free line already meets it."""
    line = training_free_line(constants)
    targets: list[Target] = []
    oracle = constants.get(ORACLE)
    if line is not None and oracle is not None and oracle > line.accuracy:
        targets += [Target(f"{f:.0%} of the gap to {ORACLE}", float(gap_target(line.accuracy, oracle, f)), GAP, f)
                    for f in sorted(gap_fractions)]
    targets += [Target(f"{a:.3f}", float(a)) for a in absolute]
    targets.append(Target(f"{plateau_fraction:.0%} of {ref_method} plateau", plateau_fraction * plateau, PLATEAU,
                          plateau_fraction))
    if line is not None:
        for target in targets:
            if target.accuracy <= line.accuracy:
                target.met_without_training = line.method
    return targets
