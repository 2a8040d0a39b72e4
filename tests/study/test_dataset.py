"""The study's items: reading them by id across splits, and a grid that grows."""

import json

import pytest

from audiorouter.config import StudyConfig, SynthConfig
from audiorouter.data.items import iter_items, write_items
from audiorouter.data.synth import synthesize_dataset
from audiorouter.study.dataset import MANIFEST, ensure_study_data, load_items
from audiorouter.study.methods.catalog import data_sizes


def test_items_in_one_split_only_and_missing_ones(tmp_path):
    synthesize_dataset(SynthConfig(n=12, seed=3, families=["tempo"], workers=1), tmp_path, progress=False)
    train = [i.id for i in iter_items(tmp_path, "train")][:2]
    items = load_items(tmp_path, ("train", "test"), train[::-1], audio=False)  # none of them in "test"
    assert [i.id for i in items] == train[::-1] and all(i.audio is None for i in items)
    assert load_items(tmp_path, ("train",), train[:1])[0].audio
    with pytest.raises(KeyError, match="1 study items not found"):
        load_items(tmp_path, ("train",), ["tempo-nope"])


def test_items_are_read_shard_by_shard_in_the_order_asked(tmp_path):
    synthesize_dataset(SynthConfig(n=12, seed=3, families=["tempo"], workers=1), tmp_path, progress=False)
    items = list(iter_items(tmp_path, "train"))
    write_items(items, tmp_path / "sharded", "big", shard_size=2)  # five shards and more
    asked = [items[-1].id, items[0].id, items[3].id]
    assert [i.id for i in load_items(tmp_path / "sharded", ("big",), asked)] == asked


def small_study(tmp_path, **overrides) -> StudyConfig:
    fields = {"data_dir": str(tmp_path / "items"), "families": ["tempo", "loudness_compare"], "router_sizes": [1, 2],
              "router_pool": 4, "internalise_sizes": [8], "test_per_family": 2, "validation_per_family": 2,
              "ood_splits": [], "seeds": 2} | overrides
    return StudyConfig(**fields)


def study_items(study: StudyConfig, **options):
    """``ensure_study_data`` with the sizes the study's methods need (the method registry's)."""
    return ensure_study_data(study, **options, **data_sizes(study))


def test_a_grown_grid_appends_training_items_and_keeps_every_order_it_had(tmp_path):
    before = study_items(small_study(tmp_path), workers=1, progress=False)
    assert len(before.lineage) == 1 and before.training_splits == ("pool", "train")

    grown = study_items(small_study(tmp_path, method_sizes={"internalise-pretrained": [8, 16]}),
                              workers=1, progress=False)
    assert len(grown.lineage) == 2 and grown.lineage[0] == before.lineage[0]
    assert grown.training_splits == ("pool", "train", "train-2")
    for seed in (0, 1):
        assert grown.training_ids(8, seed) == before.training_ids(8, seed)  # what kept results read
        assert len(set(grown.training_ids(16, seed))) == 16
    appended = set(grown.orders[0]) - set(before.orders[0])
    assert len(appended) == 8 and {grown.tasks[i] for i in appended} == {"tempo", "loudness_compare"}
    assert {i.split("-")[-2] for i in appended} == {"000004", "000005", "000006", "000007"}  # the next indices
    manifest = json.loads((tmp_path / "items" / MANIFEST).read_text())
    assert [e["split"] for e in manifest["extensions"]] == ["train-2"]

    again = study_items(small_study(tmp_path), workers=1, progress=False)  # a smaller grid: items to spare
    assert again.lineage == grown.lineage and again.training_ids(8, 0) == before.training_ids(8, 0)


def test_an_interrupted_append_is_made_again(tmp_path):
    study_items(small_study(tmp_path), workers=1, progress=False)
    left = tmp_path / "items" / "train-2" / "part-00000.parquet"  # what a killed append left, unrecorded
    left.parent.mkdir(parents=True)
    left.write_bytes(b"half a file")
    data = study_items(small_study(tmp_path, internalise_sizes=[8, 16]), workers=1, progress=False)
    assert len(data.orders[0]) == 16 and data.training_splits[-1] == "train-2"


@pytest.mark.parametrize("change", [{"test_per_family": 3}, {"families": ["tempo"]}, {"synth_seed": 1}])
def test_a_plan_that_changes_other_items_is_refused(tmp_path, change):
    study_items(small_study(tmp_path), workers=1, progress=False)
    with pytest.raises(ValueError, match="holds the items of another study plan"):
        study_items(small_study(tmp_path, **change), workers=1, progress=False)


def test_a_larger_router_pool_grows_into_the_training_items_and_keeps_the_heads_orders(tmp_path):
    """A larger study.router_pool takes the next training items by generator index into the
    shared pool (nothing generated): the routers' orders become those of a study made with
    that pool from the start, the heads' orders and lineage stay, and a smaller pool than
    the one held is refused."""
    before = study_items(small_study(tmp_path / "kept"), workers=1, progress=False)  # 2 per family
    assert before.pool_splits == ("pool",) and before.router_pool == 4
    grown = study_items(small_study(tmp_path / "kept", router_pool=6), workers=1, progress=False)
    assert grown.orders == before.orders and grown.lineage == before.lineage
    assert grown.router_pool == 6 and grown.pool_splits == ("pool", "train")
    assert set(grown.router_orders[0]) > set(before.router_orders[0])
    assert {i.split("-")[-2] for i in grown.router_orders[1]} == {"000000", "000001", "000002"}
    fresh = study_items(small_study(tmp_path / "fresh", router_pool=6), workers=1, progress=False)
    assert fresh.router_orders == grown.router_orders and fresh.pool_splits == ("pool",)
    elsewhere = study_items(small_study(tmp_path / "elsewhere", router_pool=6), workers=1, progress=False,
                            recorded=grown.manifest)  # follows the kept record: the heads' orders as kept
    assert elsewhere.orders == grown.orders and elsewhere.router_orders == grown.router_orders
    assert elsewhere.manifest == grown.manifest
    with pytest.raises(ValueError, match="a pool only grows"):
        study_items(small_study(tmp_path / "kept", router_pool=2), workers=1, progress=False)


def test_a_fresh_machine_makes_the_items_the_way_the_kept_results_record_says(tmp_path):
    """The kept folder records how the items were made (plan, then the appended split);
    another machine generating them afresh for the grown grid follows it, so its nested
    orders and lineage are those the kept results were computed on. Without the record
    it makes the grown plan in one go: other orders, another lineage."""
    first = small_study(tmp_path / "one")
    study_items(first, workers=1, progress=False)
    grown = study_items(small_study(tmp_path / "one", internalise_sizes=[8, 16]), workers=1, progress=False)
    elsewhere = study_items(small_study(tmp_path / "two", internalise_sizes=[8, 16]), workers=1,
                                  progress=False, recorded=grown.manifest)
    assert elsewhere.lineage == grown.lineage and elsewhere.orders == grown.orders
    assert elsewhere.manifest == grown.manifest
    unguided = study_items(small_study(tmp_path / "three", internalise_sizes=[8, 16]), workers=1,
                                 progress=False, recorded=None)
    assert len(unguided.lineage) == 1 and unguided.lineage != grown.lineage
    assert set(unguided.orders[0]) == set(grown.orders[0]) and unguided.orders[0] != grown.orders[0]
    other = study_items(small_study(tmp_path / "four", test_per_family=3), workers=1, progress=False,
                              recorded=grown.manifest)  # a record of another plan is not followed
    assert len(other.lineage) == 1


def test_seed_pools_give_each_seed_a_pool_of_its_own_and_keep_everything_else(tmp_path):
    """study.seed_pools: each seed's router sets come from its own items (a seed-pool split
    appended to the same items), disjoint from every other seed's; the heads' orders and the
    lineage so far stay, so their kept results still count."""
    shared = study_items(small_study(tmp_path), workers=1, progress=False)
    assert shared.pool_splits == ("pool",) and shared.training_ids(2, 0, pool=True) == shared.training_ids(2, 0)
    study = small_study(tmp_path, seed_pools=True)  # each seed's pool: the largest router size, 2
    own = study_items(study, workers=1, progress=False)
    assert own.orders == shared.orders and own.lineage[0] == shared.lineage[0] and len(own.lineage) == 2
    assert own.pool_splits == ("seed-pools-1",)
    pools = {seed: own.training_ids(2, seed, pool=True) for seed in (0, 1)}
    assert not set(pools[0]) & set(pools[1]) and not set(pools[0]) & set(shared.orders[0])
    assert all({own.tasks[i] for i in ids} == {"tempo", "loudness_compare"} for ids in pools.values())
    assert own.training_ids(1, 0, pool=True) == pools[0][:1]  # nested
    with pytest.raises(ValueError, match="exceeds the 2 router pool"):
        own.training_ids(3, 0, pool=True)
    # a larger router grid appends a second seed-pool split: each seed's order keeps its start
    grown = study_items(small_study(tmp_path, seed_pools=True, router_sizes=[1, 2, 4]), workers=1, progress=False)
    assert grown.pool_splits == ("seed-pools-1", "seed-pools-2") and len(grown.lineage) == 3
    assert all(grown.training_ids(2, seed, pool=True) == pools[seed] for seed in (0, 1))
    assert len(set(grown.training_ids(4, 0, pool=True)) | set(grown.training_ids(4, 1, pool=True))) == 8
    # another machine following the kept record makes the same pools
    elsewhere = study_items(small_study(tmp_path / "two", seed_pools=True, router_sizes=[1, 2, 4]), workers=1,
                            progress=False, recorded=grown.manifest)
    assert elsewhere.router_orders == grown.router_orders and elsewhere.lineage == grown.lineage
