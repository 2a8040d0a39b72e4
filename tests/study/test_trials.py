"""A trial's result file, read back when a study resumes."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from audiorouter.config import Config, ConfigError, ReasonerConfig
from audiorouter.config.study import StudyConfig
from audiorouter.state_files import StateFileError
from audiorouter.study.methods.catalog import (
    check_study,
    get_method,
    max_tool_training_size,
    max_train_size,
    method_names,
    router_pool_size,
)
from audiorouter.study.results import TrialResult
from audiorouter.study.trials import RESULT_FILE, load_result, trial_specs

SPLITS = {"test": ["t1", "t2"], "reworded": ["r1"]}


def test_a_missing_result_is_a_trial_to_run_and_a_torn_one_is_named(tmp_path):
    assert load_result(tmp_path, SPLITS) is None
    (tmp_path / RESULT_FILE).write_text('{"method": "router", "train_si')
    with pytest.raises(StateFileError, match=r"trial result .* is damaged: it is not valid JSON .* Delete it"):
        load_result(tmp_path, SPLITS)


def test_a_result_scored_on_other_items_than_the_splits_now_is_a_trial_to_run_again(tmp_path, caplog):
    result = TrialResult("router-ppo", 8, 0, ["t1", "t2"], ["tempo", "tempo"], [True, False],
                         ood={"reworded": {"item_ids": ["r1"], "tasks": ["tempo"], "correct": [True]}})
    (tmp_path / RESULT_FILE).write_text(json.dumps(result.to_dict()))
    assert load_result(tmp_path, SPLITS) == result
    with_instruments = SPLITS | {"instruments": ["g1"]}  # a split added since the trial ran
    assert load_result(tmp_path, with_instruments) is None
    assert "scored on other items than the study's splits now (reworded, test, not instruments" in caplog.text
    assert load_result(tmp_path, SPLITS | {"test": ["t1", "t3"]}) is None  # another test split


def test_a_result_trained_on_other_items_is_a_trial_to_run_again(tmp_path, caplog):
    """The training digest: a result records what it trained on; another digest now (its
    pool changed) reruns it, and so does one without a digest where one is required (a
    router kept from a study whose seeds shared a pool, now with study.seed_pools)."""
    result = TrialResult("router-ppo", 8, 0, ["t1", "t2"], ["tempo", "tempo"], [True, False],
                         ood={"reworded": {"item_ids": ["r1"], "tasks": ["tempo"], "correct": [True]}},
                         training_digest="aaaa")
    (tmp_path / RESULT_FILE).write_text(json.dumps(result.to_dict()))
    assert load_result(tmp_path, SPLITS, "aaaa", require_digest=True) == result
    assert load_result(tmp_path, SPLITS, "bbbb") is None and "trained on other items" in caplog.text
    (tmp_path / RESULT_FILE).write_text(json.dumps(replace(result, training_digest="").to_dict()))
    assert load_result(tmp_path, SPLITS, "aaaa") is not None  # kept before digests: counts ...
    assert load_result(tmp_path, SPLITS, "aaaa", require_digest=True) is None  # ... unless one is required


def test_the_grid_holds_each_methods_untrained_point_but_lalms():
    study = StudyConfig(methods=["router-ppo", "internalise-lalm"], router_sizes=[1, 2], internalise_sizes=[8],
                        seeds=2)
    sizes = {(s.method, s.train_size) for s in trial_specs(study)}
    assert sizes == {("router-ppo", 0), ("router-ppo", 1), ("router-ppo", 2), ("internalise-lalm", 8)}
    assert min(s.train_size for s in trial_specs(replace(study, untrained_points=False))) == 1


def test_one_methods_sizes_replace_the_list_that_covers_it():
    study = StudyConfig(methods=["router-ppo", "internalise-pretrained", "internalise-reasoner", "tools-supervised"],
                        router_sizes=[1, 2], internalise_sizes=[8, 16], seeds=1,
                        method_sizes={"internalise-pretrained": [8, 16, 32, 64], "tools-supervised": [1, 2, 4, 8]})
    study.validate()
    sizes = {(s.method, s.train_size) for s in trial_specs(study) if s.train_size}
    assert {n for m, n in sizes if m == "internalise-pretrained"} == {8, 16, 32, 64}
    assert {n for m, n in sizes if m == "internalise-reasoner"} == {8, 16}
    assert {n for m, n in sizes if m == "router-ppo"} == {1, 2}
    assert max_train_size(study) == 64
    assert max_tool_training_size(study, pool=False) == 8  # tools-supervised's items get tools
    assert max_tool_training_size(study, pool=True) == 2  # and the router's
    assert router_pool_size(study) == 4  # the pool follows the router methods only


@pytest.mark.parametrize(("change", "message"), [
    ({"method_sizes": {"internalise-scratch": [8]}}, "names methods the study does not run: internalise-scratch"),
    ({"method_sizes": {"router-ppo": [0, 4]}}, r"study.method_sizes.router-ppo must be distinct sizes >= 1"),
    ({"router_pool": 4, "method_sizes": {"router-ppo": [1, 8]}},
     r"must be >= the largest training size of the methods that train inside it \(router-ppo, "
     r"router-group-relative, router-lm, supervised-router, table-router, lookup-router\): 8"),
    ({"methods": ["router-ppo", "internalise-pretrainedd"]},
     r"study.methods: unknown \['internalise-pretrainedd'\]; valid: router-ppo, router-group-relative, "),
    ({"methods": []}, "study.methods is empty"),
    ({"reference_method": "internalise-pretrained"}, "must be an RL router method"),
    ({"methods": ["router-ppo", "internalise-lalm"]}, "internalise-lalm fine-tunes a model reasoner"),
])
def test_method_sizes_and_names_that_cannot_run_are_refused(change, message):
    study = StudyConfig(**{"methods": ["router-ppo", "internalise-pretrained"], "router_sizes": [1, 2]} | change)
    with pytest.raises(ConfigError, match=message):
        study.validate()  # the plain checks, then what only the method registry knows
        check_study(Config(study=study))


def test_the_registry_holds_every_method_with_its_traits_in_report_order():
    assert method_names() == ["router-ppo", "router-group-relative", "router-lm", "internalise-pretrained", "internalise-scratch",
                              "internalise-reasoner", "internalise-no-audio", "internalise-lalm", "supervised-router",
                              "table-router", "lookup-router", "tools-supervised"]
    assert [m for m in method_names() if get_method(m).pool] == ["router-ppo", "router-group-relative", "router-lm",
                                                                  "supervised-router", "table-router", "lookup-router"]
    assert [m for m in method_names() if get_method(m).grid == "internalise"] == [
        "internalise-pretrained", "internalise-scratch", "internalise-reasoner", "internalise-no-audio",
        "internalise-lalm"]
    with pytest.raises(ConfigError, match="unknown study method 'router'; valid: router-ppo, "):
        get_method("router")
    lalm = Config(study=StudyConfig(methods=["router-ppo", "internalise-lalm"]),
                  reasoner=ReasonerConfig(backend="lalm", model="some/audio-lm"))
    check_study(lalm)  # a model reasoner: accepted
