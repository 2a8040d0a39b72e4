"""Kept trial results: restored into a run folder that lacks them, never over a result it
has, and removed when they were scored on another dataset."""

from __future__ import annotations

import json
import logging

from audiorouter.study.kept_results import keep_result, restore_kept_results


def kept_folder(tmp_path, fingerprint="fp-1"):
    keep = tmp_path / "kept"
    for key in ("router-ppo/n1-seed0", "router-ppo/n2-seed0"):
        source = tmp_path / "source" / key
        source.mkdir(parents=True)
        (source / "result.json").write_text(json.dumps({"key": key}))
        keep_result(keep, key, source / "result.json")
    (keep / "dataset.json").write_text(json.dumps({"fingerprint": fingerprint}))
    return keep


def test_missing_results_are_restored_and_present_ones_left_alone(tmp_path):
    keep = kept_folder(tmp_path)
    run = tmp_path / "run"
    own = run / "trials" / "router-ppo" / "n2-seed0" / "result.json"
    own.parent.mkdir(parents=True)
    own.write_text('{"mine": true}')
    assert restore_kept_results(keep, run, "fp-1") == 1
    assert json.loads((run / "trials" / "router-ppo" / "n1-seed0" / "result.json").read_text()) == {
        "key": "router-ppo/n1-seed0"}
    assert json.loads(own.read_text()) == {"mine": True}
    assert restore_kept_results(keep, run, "fp-1") == 0
    assert not list(keep.rglob("*.partial"))


def test_results_of_another_dataset_are_removed_and_the_new_one_recorded(tmp_path, caplog):
    keep = kept_folder(tmp_path, "old")
    with caplog.at_level(logging.WARNING):
        assert restore_kept_results(keep, tmp_path / "run", "new") == 0
    assert "2 kept trial results" in caplog.text and "dataset old, now new" in caplog.text
    assert not (keep / "trials").exists() and not (tmp_path / "run" / "trials").exists()
    assert json.loads((keep / "dataset.json").read_text()) == {"fingerprint": "new"}


def test_a_first_run_records_its_dataset(tmp_path):
    assert restore_kept_results(tmp_path / "kept", tmp_path / "run", "fp") == 0
    assert json.loads((tmp_path / "kept" / "dataset.json").read_text()) == {"fingerprint": "fp"}
