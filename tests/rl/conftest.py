"""Shared fixtures: a tiny synthetic routing task (Ray-free) and a local Ray session."""

from __future__ import annotations

import numpy as np
import pytest

from audiorouter.features import ItemFeatures
from audiorouter.rl.rewards import OutcomeRewardSource
from audiorouter.testing.standin import ToolMatchingStandIn

TOOLS = ("a", "b", "c")


@pytest.fixture
def tiny_task():
    """24 items; item k needs tool TOOLS[k % 3], which its first 3 features announce."""
    rng = np.random.default_rng(0)
    ids = [f"item-{k:02d}" for k in range(24)]
    kinds = [k % 3 for k in range(24)]
    question = (np.eye(3)[kinds] + 0.1 * rng.normal(size=(24, 3))).astype(np.float32)
    audio = rng.normal(size=(24, 2)).astype(np.float32)
    standin = ToolMatchingStandIn({i: TOOLS[k] for i, k in zip(ids, kinds, strict=True)}, {i: False for i in ids})
    source = OutcomeRewardSource(standin)
    return ItemFeatures(ids, question, audio), source
