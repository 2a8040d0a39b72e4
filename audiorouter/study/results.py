"""What one study trial produces.

Every trial (method x train_size x seed) is scored on the same fixed test split, in
the same item order, so trials can be compared item by item (paired bootstraps):

    TrialResult(method="router-ppo", train_size=64, seed=2, item_ids=[...],
                tasks=[...], correct=[True, False, ...], wall_s=41.0)

Constant lines (no tools, all tools, best single tool, oracle routing and, read from
``router-lm``'s untrained trials, the prompted router: ``prompted_line``) are trials with
``train_size`` 0 and ``seed`` 0: they learn nothing, so they do not vary with either.

The same trial's outcomes on the out-of-distribution splits (study.ood_splits) ride
along in ``ood``: split -> {"item_ids", "tasks", "correct"}; ``on_split(name)`` gives
the trial as scored on that split, so every analysis runs per split unchanged.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from audiorouter.study.targets import PROMPTED_LINE


@dataclass
class TrialResult:
    method: str  # a registered method (study.methods), or a constant line: no-tools, all-tools, best-single-tool, oracle-routing
    train_size: int  # unique labelled training items (0 for constant lines)
    seed: int
    item_ids: list[str]  # the test split, in the study's fixed order
    tasks: list[str]  # per test item: its task family
    correct: list[bool]  # per test item: did the method's answer come out right
    wall_s: float = 0.0  # the trial's own time (shared caches make later trials cheaper)
    info: dict = field(default_factory=dict)  # method-specific: chosen hyper-parameters, tools per item, ...
    ood: dict[str, dict] = field(default_factory=dict)  # split -> {"item_ids", "tasks", "correct"}
    # what it trained on (study.trials.training_digest); "" in results kept before it was recorded
    training_digest: str = ""

    def __post_init__(self) -> None:
        if not len(self.item_ids) == len(self.tasks) == len(self.correct):
            raise ValueError(f"trial {self.key}: {len(self.item_ids)} item ids, {len(self.tasks)} tasks, "
                             f"{len(self.correct)} outcomes")

    def on_split(self, split: str) -> TrialResult:
        """This trial as scored on ``split`` ("test" is the trial itself)."""
        if split == "test":
            return self
        if split not in self.ood:
            raise KeyError(f"trial {self.key} was not scored on split {split!r}")
        part = self.ood[split]
        return replace(self, item_ids=list(part["item_ids"]), tasks=list(part["tasks"]),
                       correct=list(part["correct"]), ood={})

    @property
    def key(self) -> str:
        return f"{self.method}/n{self.train_size}/seed{self.seed}"

    @property
    def accuracy(self) -> float:
        return sum(self.correct) / len(self.correct) if self.correct else 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TrialResult:
        return cls(**data)


PROMPTED_METHOD = "router-lm"  # its N=0 trial is the prompted router (study/methods/router_lm.py)


def prompted_line(results: list[TrialResult]) -> TrialResult | None:
    """The prompted router as a constant line: ``router-lm``'s untrained trial, which draws
    nothing and so is the same for every seed (the lowest seed's copy; None without one).
    A seed that routed differently would make it no constant: that is an error, named."""
    untrained = sorted((r for r in results if r.method == PROMPTED_METHOD and r.train_size == 0),
                       key=lambda r: r.seed)
    if not untrained:
        return None
    first = untrained[0]
    for other in untrained[1:]:
        if other.correct != first.correct or other.ood != first.ood:
            raise ValueError(f"{PROMPTED_METHOD}'s untrained trials {first.key} and {other.key} differ: the "
                             "prompted router must not depend on the seed")
    info = {"from_trial": first.key, "mean_tools": first.info.get("mean_tools"),
            "tool_call_rate": first.info.get("tool_call_rate")}
    return replace(first, method=PROMPTED_LINE, seed=0, wall_s=0.0, info=info, training_digest="")
