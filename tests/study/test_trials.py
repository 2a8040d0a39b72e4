"""A trial's result file, read back when a study resumes."""

from __future__ import annotations

import pytest

from audiorouter.state_files import StateFileError
from audiorouter.study.trials import RESULT_FILE, load_result


def test_a_missing_result_is_a_trial_to_run_and_a_torn_one_is_named(tmp_path):
    assert load_result(tmp_path) is None
    (tmp_path / RESULT_FILE).write_text('{"method": "router", "train_si')
    with pytest.raises(StateFileError, match=r"trial result .* is damaged: it is not valid JSON .* Delete it"):
        load_result(tmp_path)
