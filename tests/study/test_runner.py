"""The study resolves its paths before Tune moves each trial into its own folder."""

from audiorouter.config import load_config
from audiorouter.study.runner import with_absolute_paths


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
