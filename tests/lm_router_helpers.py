"""What the LM router's tests share: an untrained router on a tiny LM, and a few items."""

from __future__ import annotations

import torch

from audiorouter.config import RouterConfig, TrainConfig
from audiorouter.data.synth import make_item
from audiorouter.rl.rewards import RewardInfo, RewardSource
from audiorouter.router.actions import ActionSpace
from audiorouter.router.lm_policy import LMRouterPolicy

TOOLS = ("pitch", "tempo", "onsets")


def lm_router(model: str, **settings) -> LMRouterPolicy:
    """An untrained LM router over TOOLS (at most 2 per subset: 7 subsets), seeded."""
    torch.manual_seed(0)
    return LMRouterPolicy.build(RouterConfig(backend="lm", lm_model=model, **settings),
                                ActionSpace(TOOLS, "subsets", max_tools=2))


def question_items():
    """Two tempo and two note-name items of the built-in suite."""
    return [make_item(family, i, seed=3) for family in ("tempo", "note_name") for i in range(2)]


class TempoPays(RewardSource):
    """Stands in for the reasoner (a unit test of the trainer): calling exactly the
    tempo tool earns 1, anything else 0; it records what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, tuple[str, ...]]] = []

    def rewards(self, item_ids, subsets):
        self.asked += list(zip(item_ids, subsets, strict=True))
        return [RewardInfo(float(s == ("tempo",)), s == ("tempo",), False, s, 0.0) for s in subsets]

    def stats(self):
        return {"reasoner_calls": float(len(self.asked))}


def tempo_training(model: str, items: int, **router) -> tuple[TrainConfig, RouterConfig]:
    """A small group-relative run of the LM router over TOOLS, seeded (TempoPays rewards it)."""
    train = TrainConfig(algorithm="group_relative", train_size=items, group_size=4, train_batch_size=16,
                        minibatch_size=8, num_epochs=2, entropy_coeff=0.0, seed=3)
    return train, RouterConfig(backend="lm", lm_model=model, lm_temperature=20.0, lm_lr=1e-2, **router)
