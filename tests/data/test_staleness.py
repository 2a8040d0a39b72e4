"""A stored built-in suite written by another version of the generator is refused."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from audiorouter.config import StudyConfig, SynthConfig
from audiorouter.data.items import split_files
from audiorouter.data.synth import family_names, synthesize_dataset
from audiorouter.data.synth.staleness import stale_suite_reason
from audiorouter.study.dataset import ensure_study_data
from audiorouter.study.methods.catalog import data_sizes


def rewrite_first_id(data_dir, split: str, new_id: str) -> None:
    path = split_files(data_dir, split)[0]
    table = pq.read_table(path)
    ids = table.column("id").to_pylist()
    ids[0] = new_id
    pq.write_table(table.set_column(table.schema.get_field_index("id"), "id", [ids]), path)


def test_a_current_suite_passes_and_an_old_generators_items_are_named(tmp_path):
    synthesize_dataset(SynthConfig(n=12, seed=3, families=["tempo", "duration"], workers=1), tmp_path,
                       progress=False)
    assert stale_suite_reason(tmp_path, "train") is None
    assert stale_suite_reason(tmp_path, "missing-split") is None
    first = pq.read_table(split_files(tmp_path, "train")[0], columns=["id"]).column("id")[0].as_py()
    old_id = first.rsplit("-", 1)[0]  # ids before the content digest
    rewrite_first_id(tmp_path, "train", old_id)
    reason = stale_suite_reason(tmp_path, "train")
    assert reason == (f"{tmp_path} was written by another version of the item generator (its item {old_id} is "
                      f"now {first}): delete the folder to generate it again")


def test_the_study_refuses_items_of_another_generator(tmp_path):
    study = StudyConfig(data_dir=str(tmp_path / "study"), families=["tempo", "duration"], router_sizes=[2],
                        internalise_sizes=[4], seeds=1, test_per_family=2, validation_per_family=1, ood_per_family=1,
                        methods=["router-ppo"])
    ensure_study_data(study, workers=1, progress=False, **data_sizes(study))
    ensure_study_data(study, workers=1, progress=False, **data_sizes(study))  # the same items: accepted
    rewrite_first_id(study.data_dir, "test", "tempo-s102-000000-00000000")
    with pytest.raises(ValueError, match="written by another version of the item generator"):
        ensure_study_data(study, workers=1, progress=False, **data_sizes(study))


def test_imported_and_unknown_items_are_not_checked(tmp_path):
    assert "tempo" in family_names()
    synthesize_dataset(SynthConfig(n=6, seed=1, families=["tempo"], workers=1), tmp_path, progress=False)
    rewrite_first_id(tmp_path, "train", "clip-from-elsewhere")
    assert stale_suite_reason(tmp_path, "train") is None
