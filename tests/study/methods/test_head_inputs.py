"""The driver's preparation of the heads' inputs: computed once, and a grid that grew
(training items appended) costs only its new items."""

from __future__ import annotations

import json

import numpy as np

from audiorouter.config import load_config
from audiorouter.contracts import AudioQAItem
from audiorouter.data.audio_io import encode_flac
from audiorouter.data.items import write_items
from audiorouter.features import ItemFeatures
from audiorouter.outcomes.pipeline import PipelineOutcomeSource
from audiorouter.study.context import StudyContext
from audiorouter.study.dataset import StudyData
from audiorouter.study.methods import head_inputs
from audiorouter.study.methods.head_inputs import FEATURES_FILE, SCORES_FILE, prepare_internalisation

SR = 16000


def tone(index: int) -> AudioQAItem:
    t = np.arange(SR // 4) / SR
    waveform = (0.3 * np.sin(2 * np.pi * (200 + 40 * index) * t)).astype(np.float32)
    choices = ["200 Hz", f"{240 + index} Hz"]
    return AudioQAItem(id=f"tone-{index:02d}", question="What is the pitch of the tone?", choices=choices,
                       answer=choices[0], task="tone", category="test", sub_category="test", difficulty="easy",
                       source="test", audio=encode_flac(waveform, SR))


SPLITS = {"pool": range(0, 4), "train": range(4, 6), "validation": range(6, 8), "test": range(8, 10),
          "train-2": range(10, 12)}


def study_data(folder, grown: bool) -> StudyData:
    training = ("pool", "train", "train-2") if grown else ("pool", "train")
    ids = {split: [f"tone-{i:02d}" for i in indices] for split, indices in SPLITS.items()}
    order = [i for split in training for i in ids[split]]
    tasks = {i: "tone" for split in (*training, "validation", "test") for i in ids[split]}
    return StudyData(folder, ["tone"], {0: order}, ids["validation"], ids["test"], tasks, ["fp"], 4,
                     training_splits=training)


def test_a_grown_grid_prepares_only_its_new_items(tmp_path, monkeypatch):
    items = tmp_path / "items"
    for split, indices in SPLITS.items():
        write_items([tone(i) for i in indices], items, split)
    computed, asked = [], []
    real = head_inputs.featurize
    monkeypatch.setattr(head_inputs, "featurize",
                        lambda chunk, *args: computed.append([i.id for i in chunk]) or real(chunk, *args))
    scores = PipelineOutcomeSource.no_evidence_scores  # the real outcome pipeline, the reference reasoner here
    monkeypatch.setattr(PipelineOutcomeSource, "no_evidence_scores",
                        lambda source, ids: asked.append(list(ids)) or scores(source, ids))
    local = ["run.use_actors=false", "reasoner.memo_path=", f"tools.cache_dir={tmp_path / 'tool_cache'}"]
    cfg = load_config(overrides=["study.methods=[router-ppo,internalise-pretrained,internalise-reasoner]",
                                 "study.internalise_sizes=[2]", *local])
    run = tmp_path / "run"
    run.mkdir()
    prepare_internalisation(StudyContext(cfg, study_data(items, grown=False), [], str(run)))
    assert sorted(i for c in computed for i in c) == [f"tone-{i:02d}" for i in range(10)]
    # the reasoner's scores only where internalise-reasoner reads them: 2 training items, validation, test
    assert sorted(i for c in asked for i in c) == ["tone-00", "tone-01", "tone-06", "tone-07", "tone-08", "tone-09"]

    computed.clear(), asked.clear()
    prepare_internalisation(StudyContext(cfg, study_data(items, grown=False), [], str(run)))
    assert computed == [] and asked == []  # nothing new: nothing computed

    grown = load_config(overrides=["study.methods=[router-ppo,internalise-pretrained,internalise-reasoner]",
                                   "study.internalise_sizes=[2]",
                                   "study.method_sizes={internalise-pretrained: [2, 8]}", *local])
    prepare_internalisation(StudyContext(grown, study_data(items, grown=True), [], str(run)))
    assert computed == [["tone-10", "tone-11"]] and asked == []
    features = ItemFeatures.load(run / FEATURES_FILE)
    assert sorted(features.item_ids) == [f"tone-{i:02d}" for i in range(12)]
    held = json.loads((run / SCORES_FILE).read_text())
    assert len(held) == 6 and all(len(scores) == 2 for scores in held.values())  # one score per choice
