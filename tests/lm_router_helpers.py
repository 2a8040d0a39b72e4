"""What the LM router's tests share: an untrained router on a tiny LM, and a few items."""

from __future__ import annotations

import torch

from audiorouter.config import RouterConfig
from audiorouter.data.synth import make_item
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
