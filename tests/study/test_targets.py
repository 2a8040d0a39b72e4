"""The study's targets: above the training-free line, in its gap to oracle routing, and
never a ratio for a target that a policy without training already meets."""

from __future__ import annotations

import pytest

from audiorouter.config.sections import ConfigError
from audiorouter.config.study import StudyConfig
from audiorouter.study.analysis import analyse
from audiorouter.study.report import render_markdown
from audiorouter.study.results import TrialResult
from audiorouter.study.targets import (
    GAP,
    ORACLE,
    PLATEAU,
    PROMPTED_LINE,
    Line,
    study_targets,
    training_free_line,
)

CONSTANTS = {"no-tools": 0.40, "all-tools": 0.60, "best-single-tool": 0.50, "oracle-routing": 0.80}


def test_the_line_is_the_best_policy_without_training_and_not_the_oracle():
    line = training_free_line(CONSTANTS)
    assert (line.method, line.accuracy) == ("all-tools", 0.60)
    assert training_free_line({"oracle-routing": 0.9}) is None


def test_default_targets_split_the_gap_to_oracle_routing():
    targets = study_targets(CONSTANTS, plateau=0.76, absolute=(), gap_fractions=(0.25, 0.5, 0.75),
                            plateau_fraction=0.95, ref_method="router-ppo")
    assert [t.kind for t in targets] == [GAP, GAP, GAP, PLATEAU]
    assert [t.accuracy for t in targets] == pytest.approx([0.65, 0.70, 0.75, 0.722])
    assert targets[1].label == "50% of the gap to oracle-routing"
    assert all(t.met_without_training is None for t in targets)


def test_targets_the_line_meets_are_marked_never_dropped():
    targets = study_targets(CONSTANTS, plateau=0.62, absolute=(0.55, 0.60, 0.70), gap_fractions=(0.5,),
                            plateau_fraction=0.95, ref_method="router-ppo")
    met = {t.label: t.met_without_training for t in targets}
    assert met == {"50% of the gap to oracle-routing": None, "0.550": "all-tools", "0.600": "all-tools",
                   "0.700": None, "95% of router-ppo plateau": "all-tools"}  # 0.95 x 0.62 = 0.589


def test_no_gap_targets_without_an_oracle_above_the_line():
    targets = study_targets({"no-tools": 0.5, "oracle-routing": 0.5}, 0.9, (), (0.5,), 0.95, "router-ppo")
    assert [t.kind for t in targets] == [PLATEAU]


def test_a_met_target_gets_no_ratio_and_the_report_says_why():
    ids, tasks = [f"i{k}" for k in range(20)], ["t"] * 20

    def outcome(method, size, right):
        return TrialResult(method, size, 0, ids, tasks, [k < right for k in range(20)])

    trials = [outcome("router-ppo", 1, 10), outcome("router-ppo", 8, 16), outcome("internalise-scratch", 8, 8),
              outcome("internalise-scratch", 64, 14), outcome("all-tools", 0, 12), outcome("oracle-routing", 0, 18)]
    study = analyse(trials, "reference reasoner", targets=(0.5,), resamples=50)
    assert study.line.method == "all-tools" and study.line.accuracy == 0.6
    assert {r.target.label for r in study.ratios} == {"25% of the gap to oracle-routing",
                                                      "50% of the gap to oracle-routing",
                                                      "75% of the gap to oracle-routing", "95% of router-ppo plateau"}
    text = render_markdown(study)
    assert "| 0.500 | 0.500 | absolute | met by all-tools |" in text
    assert "No ratio for a = 0.500: the training-free line already meets it." in text
    assert "≤ 1.0 (reached at the smallest size); met without training" in text


def test_gap_fractions_are_checked_in_the_config():
    with pytest.raises(ConfigError, match="gap_fractions"):
        StudyConfig(gap_fractions=[0.5, 1.0]).validate()
    StudyConfig().validate()


def test_the_prompted_router_joins_the_training_free_line_and_raises_the_targets():
    without = study_targets({"no-tools": 0.5, "all-tools": 0.6, ORACLE: 1.0}, 0.9, [], [0.5], 0.95, "router-ppo")
    constants = {"no-tools": 0.5, "all-tools": 0.6, PROMPTED_LINE: 0.7, ORACLE: 1.0}
    assert training_free_line(constants) == Line(PROMPTED_LINE, 0.7)
    with_prompted = study_targets(constants, 0.9, [], [0.5], 0.95, "router-ppo")
    assert without[0].accuracy == pytest.approx(0.8) and with_prompted[0].accuracy == pytest.approx(0.85)
