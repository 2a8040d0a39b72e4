"""The study resolves its paths before Tune moves each trial into its own folder, and its
constant lines are the evaluation's baselines."""

from outcome_helpers import TOOLS, standin_table

from audiorouter.config import load_config
from audiorouter.evaluation.report import baseline_policies
from audiorouter.study.runner import constant_lines_of, with_absolute_paths


def test_relative_paths_become_absolute_and_disabled_ones_stay_off(tmp_path):
    config = load_config(None, ["reasoner.memo_path=", "tracking.tracking_uri=http://mlflow:5000",
                                "study.data_dir=data/study", "reasoner.model=models/tiny"])
    (tmp_path / "models" / "tiny").mkdir(parents=True)
    resolved = with_absolute_paths(config, tmp_path)
    assert resolved.study.data_dir == str(tmp_path / "data/study")
    assert resolved.run.out_dir == str(tmp_path / "runs")
    assert resolved.tools.cache_dir == str(tmp_path / "runs/tool_cache")
    assert resolved.data.dir == str(tmp_path / "data/perception")
    assert resolved.reasoner.model == str(tmp_path / "models/tiny")  # an existing local folder
    assert resolved.reasoner.memo_path == ""  # disabled stays disabled
    assert resolved.tracking.tracking_uri == "http://mlflow:5000"
    assert config.study.data_dir == "data/study"  # the original is untouched
    preset = with_absolute_paths(load_config(None, ["reasoner.model=qwen2.5-coder-1.5b"]), tmp_path)
    assert preset.reasoner.model == "qwen2.5-coder-1.5b"


def test_constant_lines_are_the_evaluations_baselines_on_the_same_table():
    table, allowed = standin_table()  # every single tool answers 2 of 4: a tie
    lines = constant_lines_of(table, list(TOOLS), allowed, "test")
    baselines = {row.name.replace(" ", "-"): row for row in baseline_policies(table, TOOLS, allowed)}
    assert list(lines) == list(baselines) == ["no-tools", "all-tools", "best-single-tool", "oracle-routing"]
    for name, (correct, _) in lines.items():
        assert correct.mean() == baselines[name].accuracy
    assert lines["best-single-tool"][1]["tool"] == baselines["best-single-tool"].note == "a"  # the first listed
    assert "oracle-routing" not in constant_lines_of(table, list(TOOLS), None, "reworded")
