"""A trial's result file, read back when a study resumes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from audiorouter.config.study import StudyConfig
from audiorouter.state_files import StateFileError
from audiorouter.study.trials import RESULT_FILE, load_result, trial_specs


def test_a_missing_result_is_a_trial_to_run_and_a_torn_one_is_named(tmp_path):
    assert load_result(tmp_path) is None
    (tmp_path / RESULT_FILE).write_text('{"method": "router", "train_si')
    with pytest.raises(StateFileError, match=r"trial result .* is damaged: it is not valid JSON .* Delete it"):
        load_result(tmp_path)


def test_the_grid_holds_each_methods_untrained_point_but_lalms():
    study = StudyConfig(methods=["router-ppo", "internalise-lalm"], router_sizes=[1, 2], internalise_sizes=[8],
                        seeds=2)
    sizes = {(s.method, s.train_size) for s in trial_specs(study)}
    assert sizes == {("router-ppo", 0), ("router-ppo", 1), ("router-ppo", 2), ("internalise-lalm", 8)}
    assert min(s.train_size for s in trial_specs(replace(study, untrained_points=False))) == 1
