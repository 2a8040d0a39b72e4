"""Reading study items by id across splits."""

import pytest

from audiorouter.config import SynthConfig
from audiorouter.data.items import iter_items
from audiorouter.data.synth import synthesize_dataset
from audiorouter.study.dataset import load_items


def test_items_in_one_split_only_and_missing_ones(tmp_path):
    synthesize_dataset(SynthConfig(n=12, seed=3, families=["tempo"], workers=1), tmp_path, progress=False)
    train = [i.id for i in iter_items(tmp_path, "train")][:2]
    items = load_items(tmp_path, ("train", "test"), train[::-1], audio=False)  # none of them in "test"
    assert [i.id for i in items] == train[::-1] and all(i.audio is None for i in items)
    assert load_items(tmp_path, ("train",), train[:1])[0].audio
    with pytest.raises(KeyError, match="1 study items not found"):
        load_items(tmp_path, ("train",), ["tempo-nope"])
