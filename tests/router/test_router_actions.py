"""Action spaces: actions <-> tool tuples, both kinds, caps and errors."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from audiorouter.router.actions import ActionSpace

TOOLS = ("pitch", "onsets", "tempo", "loudness")


def test_subsets_enumerate_empty_first_and_respect_the_cap():
    space = ActionSpace(TOOLS, "subsets", max_tools=2)
    assert space.subsets[0] == ()
    assert len(space.subsets) == 1 + 4 + 6
    assert max(len(s) for s in space.subsets) == 2
    assert space.gym_space() == gym.spaces.Discrete(11)
    assert space.num_logits == 11


def test_subsets_round_trip_and_order_insensitive():
    space = ActionSpace(TOOLS, "subsets", max_tools=2)
    for action, subset in enumerate(space.subsets):
        assert space.to_tools(action) == subset
        assert space.to_action(subset) == action
    assert space.to_action(["tempo", "pitch"]) == space.to_action(("pitch", "tempo"))


def test_uncapped_subsets_cover_the_power_set():
    assert len(ActionSpace(TOOLS, "subsets", max_tools=0).subsets) == 2 ** len(TOOLS)


def test_subset_over_the_cap_and_unknown_tools_are_errors():
    space = ActionSpace(TOOLS, "subsets", max_tools=1)
    with pytest.raises(ValueError, match="cap"):
        space.to_action(("pitch", "tempo"))
    with pytest.raises(ValueError, match="unknown tools"):
        space.to_action(("asr",))


def test_per_tool_switches():
    space = ActionSpace(TOOLS, "per_tool")
    assert space.gym_space() == gym.spaces.MultiDiscrete([2, 2, 2, 2])
    assert space.num_logits == 8
    assert space.to_tools(np.array([0, 0, 0, 0])) == ()
    assert space.to_tools(np.array([1, 0, 1, 0])) == ("pitch", "tempo")
    assert space.to_action(("tempo", "pitch")).tolist() == [1, 0, 1, 0]
    assert len(space.subsets) == 16


def test_greedy_reads_the_logit_layout_of_each_kind():
    subsets = ActionSpace(TOOLS, "subsets", max_tools=2)
    logits = np.zeros((1, subsets.num_logits))
    logits[0, subsets.to_action(("onsets",))] = 5.0
    assert subsets.greedy(logits) == [("onsets",)]
    per_tool = ActionSpace(TOOLS, "per_tool")
    logits = np.array([[0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0]])  # (off, on) per tool
    assert per_tool.greedy(logits) == [("pitch", "tempo")]


def test_dict_round_trip_and_validation():
    space = ActionSpace(TOOLS, "subsets", max_tools=2)
    assert ActionSpace.from_dict(space.to_dict()) == space
    with pytest.raises(ValueError, match="unknown"):
        ActionSpace(TOOLS, "bandit")
    with pytest.raises(ValueError, match="duplicate"):
        ActionSpace(("pitch", "pitch"))
