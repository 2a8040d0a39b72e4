"""The perception suite: determinism, disjoint splits, well-formed questions."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

from audiorouter.config import ConfigError, SynthConfig
from audiorouter.contracts import SPLITS
from audiorouter.data.audio_io import decode_audio
from audiorouter.data.items import dataset_info, iter_items
from audiorouter.data.synth import (
    LEVELS,
    family_names,
    get_family,
    make_item,
    plan_splits,
    resolve_families,
    synthesize_dataset,
)
from audiorouter.data.synth.base import numeric_distractors

AVAILABLE = resolve_families()
FOUR = ["note_name", "tempo", "duration", "loudness_compare"]
BINARY = {"chord_quality", "loudness_compare", "brightness_compare", "sweep_direction"}


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    out = tmp_path_factory.mktemp("suite")
    synthesize_dataset(SynthConfig(n=66, seed=3, shard_size=8, families=FOUR), out, progress=False)
    return out


def test_at_least_ten_families_over_music_and_sound():
    assert len(family_names()) >= 10
    assert {get_family(f).category for f in family_names()} >= {"music", "sound"}


def test_same_seed_same_items_different_seed_different_items():
    for family in AVAILABLE:
        a, b = make_item(family, 5, seed=11), make_item(family, 5, seed=11)
        assert a == b, family
        c = make_item(family, 5, seed=12)
        assert a.audio != c.audio, family


def test_item_does_not_depend_on_generation_order():
    first = [make_item("tempo", i, seed=1) for i in range(3)]
    assert make_item("tempo", 2, seed=1) == first[2]


def test_whole_suite_is_deterministic(tmp_path, suite):
    synthesize_dataset(SynthConfig(n=66, seed=3, shard_size=8, families=FOUR), tmp_path, progress=False)
    for split in SPLITS:
        ours = [(i.id, i.audio, i.question, i.choices) for i in iter_items(tmp_path, split)]
        theirs = [(i.id, i.audio, i.question, i.choices) for i in iter_items(suite, split)]
        assert ours == theirs


def test_splits_are_disjoint_and_cover_everything(suite):
    ids, hashes = {}, {}
    for split in SPLITS:
        items = list(iter_items(suite, split))
        ids[split] = {i.id for i in items}
        hashes[split] = {hashlib.sha256(i.audio).hexdigest() for i in items}
        assert len(ids[split]) == len(items)
    for a in SPLITS:
        for b in SPLITS:
            if a < b:
                assert not ids[a] & ids[b]
                assert not hashes[a] & hashes[b]
    assert sum(len(v) for v in ids.values()) == 66
    info = dataset_info(suite)
    assert info.splits == {"train": 46, "validation": 8, "test": 12}  # 16-17 per family
    assert set(info.tasks["test"]) == set(FOUR)  # every family in every split


def test_split_plan_depends_only_on_config():
    cfg = SynthConfig(n=200, seed=4)
    assert plan_splits(cfg, family_names()) == plan_splits(cfg, family_names())


@pytest.mark.parametrize("family", sorted(AVAILABLE))
def test_questions_are_well_formed(family):
    items = [make_item(family, i, seed=2, difficulty=LEVELS[i % 3]) for i in range(24)]
    for item in items:
        assert item.answer in item.choices
        assert len(set(item.choices)) == len(item.choices)
        assert len(item.choices) == (2 if family in BINARY or item.sub_category == "direction" else 4)
        assert item.difficulty in LEVELS and "knobs" in item.meta
        wave, sr = decode_audio(item.audio)
        assert sr == 16000 and np.all(np.isfinite(wave))
        assert abs(wave.size / sr - item.duration_s) < 1e-3
    assert len({i.question for i in items}) >= 2, "several paraphrases per family"
    positions = {i.answer_index for i in items}
    assert len(positions) >= 2, "the answer's position is random"


def test_speech_families_are_skipped_with_a_message_without_a_synthesiser(monkeypatch, caplog):
    monkeypatch.setattr("audiorouter.data.synth.speech.shutil.which", lambda _: None)
    with caplog.at_level("WARNING"):
        names = resolve_families()
    assert "word_count" not in names and "note_name" in names
    assert "skipping task family word_count: no speech synthesiser: espeak-ng is not on PATH" in caplog.text
    with pytest.raises(ConfigError, match="'word_count' cannot be generated here: no speech synthesiser"):
        resolve_families(["word_count"])


def test_unknown_family_is_a_clear_error():
    with pytest.raises(ConfigError, match="unknown task family 'pitchh'; valid: note_name"):
        resolve_families(["pitchh"])


def test_truth_rank_among_numeric_choices_is_uniform_away_from_the_bounds():
    """Distractors used to be the nearest values on both sides, so the truth was never the
    smallest or largest option and "pick a middle one" beat chance without hearing."""
    rng = np.random.default_rng(0)
    ranks = np.zeros(4, int)
    for _ in range(4000):
        ranks[sum(d < 5 for d in numeric_distractors(rng, 5, 1, 1, 12)[:3])] += 1
    assert np.all(np.abs(ranks / 4000 - 0.25) < 0.03), ranks
    rng = np.random.default_rng(1)
    for value in (1, 2, 11, 12):  # at the bounds the truth can only sit on the open side
        window = numeric_distractors(rng, value, 1, 1, 12)
        assert len(set(window)) == 3 and all(1 <= d <= 12 and d != value for d in window)


def test_item_id_changes_with_the_item_content(monkeypatch):
    """Outcomes are memoised by item id: an item the generator now makes differently must
    not pick up what the reasoner said about the old one."""
    before = make_item("tempo", 4, seed=2)
    assert before.id.startswith("tempo-s2-000004-")
    family = get_family("tempo")
    original = type(family).make

    def other_question(self, rng, level):
        clip = original(self, rng, level)
        clip.question = clip.question + " (reworded)"
        return clip

    monkeypatch.setattr(type(family), "make", other_question)
    assert make_item("tempo", 4, seed=2).id != before.id


_IDS_AND_AUDIO = """
import hashlib, json, sys
from audiorouter.data.synth import make_item
items = [make_item(f, i, seed=102) for f in json.loads(sys.argv[1]) for i in range(4)]
print(json.dumps([[item.id, hashlib.sha256(item.audio).hexdigest()] for item in items]))
"""


def test_items_do_not_depend_on_the_cpus_vector_instructions():
    """Item ids hash the truth, so a truth float numpy computes with the CPU's vector
    instructions (SVML power on AVX-512) made other ids on other machines and a kept study
    could not be restored there. The items made with numpy's dispatched SIMD levels turned
    off are the same; a machine without such levels has nothing to compare (skip)."""
    levels = [name for name in __cpu_dispatch__ if __cpu_features__.get(name)]
    if not levels:
        pytest.skip("numpy dispatches no SIMD level above its baseline on this CPU")
    runs = [subprocess.run([sys.executable, "-c", _IDS_AND_AUDIO, json.dumps(AVAILABLE)], check=True,
                           capture_output=True, text=True, env=os.environ | extra).stdout
            for extra in ({}, {"NPY_DISABLE_CPU_FEATURES": " ".join(levels)})]
    assert json.loads(runs[0]) == json.loads(runs[1])
