"""Reward registry, tool cost, and the tool-matching stand-in (a test double)."""

from __future__ import annotations

import time

import pytest

from audiorouter.contracts import AudioQAItem
from audiorouter.outcomes.base import Outcome, OutcomeSource
from audiorouter.rl.rewards import (
    OutcomeRewardSource,
    ToolCost,
    get_reward,
    register_reward,
    reward_names,
)
from audiorouter.testing.standin import ToolMatchingStandIn


def test_registered_rewards():
    assert reward_names()[:2] == ["relative", "absolute"]
    relative, absolute = get_reward("relative"), get_reward("absolute")
    assert [relative(w, wo) for w, wo in [(1, 0), (1, 1), (0, 1), (0, 0)]] == [1.0, 0.0, -1.0, 0.0]
    assert [absolute(w, wo) for w, wo in [(1, 0), (1, 1), (0, 1), (0, 0)]] == [1.0, 1.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="unknown reward 'bleu'; valid: relative, absolute"):
        get_reward("bleu")
    with pytest.raises(ValueError, match="reward 'relative' is already registered by relative_reward"):
        register_reward("relative")(lambda w, wo: 0.0)


def test_tool_cost_is_latency_weighted():
    cost = ToolCost(weight=0.5, mean_latency_s={"pitch": 0.2, "asr": 2.0})
    assert cost(()) == 0.0
    assert cost(("pitch", "asr")) == pytest.approx(0.5 * 2.2)
    assert ToolCost()(("anything",)) == 0.0  # weight 0: free, no latency needed
    with pytest.raises(KeyError, match="no mean latency"):
        cost(("tempo",))


class FixedOutcomes(OutcomeSource):
    def outcomes(self, item_ids, subsets):
        return [Outcome(correct_with=bool(s), correct_without=False) for s in subsets]


def test_outcome_source_scores_with_reward_minus_cost():
    source = OutcomeRewardSource(FixedOutcomes(), "relative", ToolCost(0.1, {"pitch": 1.0}))
    infos = source.rewards(["x", "y"], [("pitch",), ()])
    assert infos[0].reward == pytest.approx(0.9) and infos[0].cost == pytest.approx(0.1)
    assert infos[0].tools_called == ("pitch",) and infos[0].correct_with
    assert infos[1].reward == 0.0 and not infos[1].correct_with
    with pytest.raises(ValueError, match="2 item ids but 1 subsets"):
        source.rewards(["x", "y"], [()])


class SlowOutcomes(FixedOutcomes):
    def outcomes(self, item_ids, subsets):
        time.sleep(0.05)  # a reasoner that takes its time
        return super().outcomes(item_ids, subsets)


def test_outcome_source_counts_the_seconds_it_waited_for_outcomes():
    source = OutcomeRewardSource(SlowOutcomes())
    assert source.stats() == {"outcome_wait_s": 0.0}
    source.rewards(["x"], [()])
    source.rewards(["y"], [()])
    assert source.stats()["outcome_wait_s"] >= 0.1


def test_standin_needs_the_right_tool_and_few_distractors():
    standin = ToolMatchingStandIn({"x": "pitch", "y": None}, {"x": False, "y": True}, max_distractors=1)
    assert standin.correct("x", ("pitch",))
    assert standin.correct("x", ("pitch", "tempo"))  # one distractor is tolerated
    assert not standin.correct("x", ("pitch", "tempo", "asr"))  # competing evidence misleads
    assert not standin.correct("x", ("tempo",))  # unrelated evidence: as without (wrong)
    assert standin.correct("y", ()) and standin.correct("y", ("tempo",))
    assert not standin.correct("y", ("tempo", "asr"))
    infos = OutcomeRewardSource(standin).rewards(["x", "y"], [("pitch",), ()])
    assert [i.reward for i in infos] == [1.0, 0.0]
    assert standin.stats() == {"standin_calls": 1.0, "standin_items": 2.0}


def test_standin_for_items_maps_tasks_to_tools():
    items = [AudioQAItem(f"i{k}", "q?", ["a", "b"], "a", task, "music", "s", "easy", "synth")
             for k, task in enumerate(["tempo", "pitch_name", "tempo"])]
    standin = ToolMatchingStandIn.for_items(items, {"tempo": "tempo", "pitch_name": "pitch"}, 0.0)
    assert standin.required == {"i0": "tempo", "i1": "pitch", "i2": "tempo"}
    assert not any(standin.without.values())
