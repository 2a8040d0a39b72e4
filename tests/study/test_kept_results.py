"""Kept trial results: restored into a run folder that lacks them, never over a result it
has, kept when the study's items continue theirs (a grown grid), and removed when they
were scored on other items."""

from __future__ import annotations

import json
import logging

import pytest

from audiorouter.study.kept_results import keep_result, kept_dataset_record, restore_kept_results


def kept_folder(tmp_path, record=None):
    keep = tmp_path / "kept"
    for key in ("router-ppo/n1-seed0", "router-ppo/n2-seed0"):
        source = tmp_path / "source" / key
        source.mkdir(parents=True)
        (source / "result.json").write_text(json.dumps({"key": key}))
        keep_result(keep, key, source / "result.json")
    (keep / "dataset.json").write_text(json.dumps(record or {"lineage": ["fp-1"]}))
    return keep


def test_missing_results_are_restored_and_present_ones_left_alone(tmp_path):
    keep = kept_folder(tmp_path)
    run = tmp_path / "run"
    own = run / "trials" / "router-ppo" / "n2-seed0" / "result.json"
    own.parent.mkdir(parents=True)
    own.write_text('{"mine": true}')
    assert restore_kept_results(keep, run, ["fp-1"]) == 1
    assert json.loads((run / "trials" / "router-ppo" / "n1-seed0" / "result.json").read_text()) == {
        "key": "router-ppo/n1-seed0"}
    assert json.loads(own.read_text()) == {"mine": True}
    assert restore_kept_results(keep, run, ["fp-1"]) == 0
    assert not list(keep.rglob("*.partial"))


@pytest.mark.parametrize("record", [{"lineage": ["fp-1"]}, {"fingerprint": "fp-1"}], ids=["lineage", "older record"])
def test_results_stay_when_training_items_were_appended(tmp_path, record):
    """A grid that grew appended a split (lineage fp-1, then ext): the first items of every
    nested order are those the kept results read, so they are restored, and the record
    follows the items."""
    keep = kept_folder(tmp_path, record)
    assert restore_kept_results(keep, tmp_path / "run", ["fp-1", "ext"]) == 2
    assert json.loads((keep / "dataset.json").read_text()) == {"lineage": ["fp-1", "ext"]}


@pytest.mark.parametrize(("recorded", "now"), [(["old"], ["new"]), (["fp-1", "a"], ["fp-1", "b"]),
                                               (["fp-1", "a"], ["fp-1"])],
                         ids=["other items", "another appended split", "fewer items"])
def test_results_of_other_items_are_removed_and_the_new_ones_recorded(tmp_path, caplog, recorded, now):
    keep = kept_folder(tmp_path, {"lineage": recorded})
    with caplog.at_level(logging.WARNING):
        assert restore_kept_results(keep, tmp_path / "run", now) == 0
    assert "2 kept trial results" in caplog.text and f"dataset {recorded}, now {now}" in caplog.text
    assert not (keep / "trials").exists() and not (tmp_path / "run" / "trials").exists()
    assert json.loads((keep / "dataset.json").read_text()) == {"lineage": now}


def test_a_first_run_records_its_dataset_and_how_it_was_made(tmp_path):
    manifest = {"plan": {"splits": {}}, "fingerprint": "fp"}
    assert restore_kept_results(tmp_path / "kept", tmp_path / "run", ["fp"], manifest) == 0
    assert kept_dataset_record(tmp_path / "kept") == {"lineage": ["fp"], "manifest": manifest}
    assert kept_dataset_record(tmp_path / "nothing") == {}
