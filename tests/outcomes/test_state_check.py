"""The shared state files, checked in the driver before a job starts and by the
outcome source when rollout workers sample nothing."""

from __future__ import annotations

import pytest
from memo_helpers import filled_memo, truncate_to_half

from audiorouter.config import load_config
from audiorouter.outcomes.pipeline import PipelineOutcomeSource, PipelineSourceSpec
from audiorouter.outcomes.state_check import check_shared_state
from audiorouter.state_files import StateFileError


def config(root, **paths):
    values = {"reasoner.memo_path": f"{root}/memo.sqlite", "tools.cache_dir": f"{root}/cache",
              "tracking.tracking_uri": f"{root}/mlflow.db"} | paths
    return load_config(None, [f"{k}={v}" for k, v in values.items()])


def test_whole_or_absent_files_pass_and_each_damaged_one_is_named(tmp_path):
    check_shared_state(config(tmp_path))  # nothing there yet: each is created when opened
    filled_memo(tmp_path / "memo.sqlite")
    check_shared_state(config(tmp_path))
    truncate_to_half(tmp_path / "memo.sqlite")
    with pytest.raises(StateFileError, match="outcome memo"):
        check_shared_state(config(tmp_path))
    check_shared_state(config(tmp_path, **{"reasoner.memo_path": ""}))  # no memo, nothing to check
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "tool_results.sqlite").write_text("junk" * 100)
    with pytest.raises(StateFileError, match="tool cache"):
        check_shared_state(config(tmp_path, **{"reasoner.memo_path": ""}))
    (tmp_path / "mlflow.db").write_text("junk" * 100)
    with pytest.raises(StateFileError, match=r"MLflow store \(tracking.tracking_uri\)"):
        check_shared_state(config(tmp_path, **{"reasoner.memo_path": "", "tools.cache_dir": ""}))
    check_shared_state(config(tmp_path, **{"reasoner.memo_path": "", "tools.cache_dir": ""}), tracking=False)


def test_the_pipeline_source_opens_what_its_workers_open(tmp_path):
    cfg = config(tmp_path)
    source = PipelineOutcomeSource(PipelineSourceSpec(str(tmp_path / "data"), ("train",), (), cfg.tools, cfg.reasoner,
                                                      use_actors=False))
    source.check_ready()
    truncate_to_half(filled_memo(tmp_path / "memo.sqlite"))
    with pytest.raises(StateFileError, match="memo.sqlite' is damaged"):
        source.check_ready()
