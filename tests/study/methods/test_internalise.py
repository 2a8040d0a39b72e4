"""Internalisation baselines: choice value features and the choice scorer.

The tests build the heads' ``ItemFeatures`` by hand (random embeddings, one column that carries the
answer), so no model is loaded. The features themselves are tested in tests/features.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from feature_helpers import choice_item, text_vector

from audiorouter.contracts import AudioQAItem
from audiorouter.features import HEAD_SPEC, ItemFeatures
from audiorouter.features.spec import YAMNET_DIM
from audiorouter.features.values import ChoiceValue
from audiorouter.study.methods.choice_values import value_features
from audiorouter.study.methods.internalise import (
    GRID,
    WIDE,
    HeadConfig,
    TrainBudget,
    fit_internaliser,
    sampled_grid,
)

SPEC = HEAD_SPEC
FAST = TrainBudget(max_epochs=1, min_steps=300, patience=4, growths=0, audio_components=32, text_components=16)
ONE = [HeadConfig(hidden=64, lr=1e-2, weight_decay=1e-4, dropout=0.0)]


def synthetic(n: int, seed: int, choice_counts=(4,)) -> tuple[list[AudioQAItem], ItemFeatures]:
    """Items whose answer is the choice stating the value in embedding column 0 (a
    handful of other columns are noise, the rest constant); answer positions uniform."""
    rng = np.random.default_rng(seed)
    items, embedding = [], np.zeros((n, 2 * YAMNET_DIM), np.float32)
    for i in range(n):
        count = choice_counts[i % len(choice_counts)]
        values = rng.choice(np.arange(1, 10), size=count, replace=False)
        answer = int(rng.integers(count))
        items.append(choice_item(f"syn-{seed}-{i}", [f"{v} s" for v in values], answer))
        embedding[i, 0] = values[answer]
        embedding[i, 1:6] = rng.normal(size=5)
    features = ItemFeatures(
        [item.id for item in items], np.stack([text_vector(item.question) for item in items]),
        np.zeros((n, SPEC.audio_dim), np.float32), embedding=embedding,
        mel=np.zeros((n, SPEC.matrix_mels, SPEC.matrix_frames), np.float16),
        questions=[item.question for item in items], choices=[item.choices for item in items],
        choice_vectors=[np.stack([text_vector(c) for c in item.choices]) for item in items], spec=SPEC)
    return items, features


def merged(*parts: ItemFeatures) -> ItemFeatures:
    return ItemFeatures.concat(parts)


def accuracy(picks: list[int], items: list[AudioQAItem]) -> float:
    return float(np.mean([p == item.answer_index for p, item in zip(picks, items, strict=True)]))


@pytest.fixture(scope="module")
def splits():
    (train, f1), (val, f2), (test, f3) = synthetic(240, 1), synthetic(80, 2), synthetic(120, 3)
    return train, val, test, merged(f1, f2, f3)


# ------------------------------------------------------------------ choice values


def test_value_features_rank_and_scale_within_an_item():
    values = [ChoiceValue(120.0, "bpm"), ChoiceValue(60.0, "bpm"), None, ChoiceValue(90.0, "bpm")]
    out = value_features([values], {"bpm": (90.0, 30.0, 4.5, 0.3)})[0]
    assert out.shape[0] == 4 and not out[2].any()  # no value: all zero
    assert out[:, 0].tolist() == [1, 1, 0, 1]
    assert out[1, 6] == -1 and out[0, 6] == 1 and out[3, 6] == 0  # rank in [-1, 1]
    assert out[1, 7] == 1 and out[0, 8] == 1  # smallest, largest
    unseen = value_features([[ChoiceValue(3.0, "hz")], [None, ChoiceValue(1.0, "hz")]], {})
    assert unseen.shape == (2, 2, out.shape[1]) and unseen[0, 0, 0] == 1 and unseen[0, 0, 1] == 0  # no z-score
    assert not unseen[0, 1].any() and not unseen[1, 1, 6:9].any()  # padding; one value: no rank


# ----------------------------------------------------------------------- learning


def test_pretrained_head_learns_a_value_read_from_the_audio(splits):
    train, val, test, features = splits
    fitted = fit_internaliser("pretrained", train, val, features, seed=0, grid=ONE, budget=FAST)
    assert accuracy(fitted.predict(test), test) > 0.6  # chance 0.25
    assert fitted.info["val_accuracy"] > 0.6 and fitted.info["steps"] > 0


def test_reasoner_kind_starts_from_the_reasoner_and_keeps_it_when_right(splits):
    train, val, test, features = splits
    right = {item.id: [2.0 if j == item.answer_index else 0.0 for j in range(len(item.choices))]
             for item in train + val + test}
    fitted = fit_internaliser("reasoner", train[:16], val[:16], features, seed=0, reasoner_scores=right,
                              grid=ONE, budget=FAST)
    assert accuracy(fitted.predict(test), test) >= 0.95
    untrained = fit_internaliser("reasoner", train[:16], val[:16], features, seed=0, reasoner_scores=right,
                                 grid=[replace(ONE[0], lr=0.0)], budget=FAST)
    assert accuracy(untrained.predict(test), test) == 1.0  # zero training: the reasoner's argmax


def test_grid_keeps_the_config_with_the_best_validation_accuracy(splits):
    train, val, _, features = splits
    grid = [replace(ONE[0], lr=0.0), ONE[0]]  # lr 0 never leaves the untrained head
    fitted = fit_internaliser("pretrained", train, val, features, seed=0, grid=grid, budget=FAST)
    accuracies = [run["val_accuracy"] for run in fitted.info["grid"]]
    assert accuracies[1] > accuracies[0]
    assert fitted.info["config"]["lr"] == ONE[0].lr and fitted.info["val_accuracy"] == max(accuracies)


def test_a_fit_is_deterministic_for_a_seed(splits):
    train, val, test, features = splits
    fits = [fit_internaliser("pretrained", train[:64], val[:32], features, seed=5, grid=ONE, budget=FAST)
            for _ in range(2)]
    assert fits[0].predict(test) == fits[1].predict(test)
    assert fits[0].info["steps"] == fits[1].info["steps"]
    for a, b in zip(fits[0].model.state_dict().values(), fits[1].model.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_items_with_different_numbers_of_choices():
    (train, f1), (val, f2), (test, f3) = (synthetic(240, s, choice_counts=(2, 3, 4)) for s in (4, 5, 6))
    fitted = fit_internaliser("pretrained", train, val, merged(f1, f2, f3), seed=0, grid=ONE, budget=FAST)
    picks = fitted.predict(test)
    assert all(0 <= p < len(item.choices) for p, item in zip(picks, test, strict=True))
    assert accuracy(picks, test) > 0.6  # chance about 0.36


def test_scratch_kind_trains_its_cnn(splits):
    train, val, test, features = splits
    mel = np.zeros_like(features.mel)  # the answer's value drawn as the level of the first 2.5 s
    mel[:, :, :64] = (features.embedding[:, 0, None, None] / 3).astype(np.float16)
    budget = TrainBudget(batch_size=64, max_epochs=1, min_steps=60, patience=3, growths=0, text_components=16)
    fitted = fit_internaliser("scratch", train[:128], val[:40], replace(features, mel=mel), seed=0,
                              grid=ONE, budget=budget)
    assert accuracy(fitted.predict(test[:60]), test[:60]) > 0.5  # chance 0.25
    assert fitted.info["kind"] == "scratch" and len(fitted.info["grid"]) == 1


def test_no_audio_kind_hears_nothing_but_learns_a_text_cue(splits):
    train, val, test, features = splits  # the answer is only in the audio
    deaf = fit_internaliser("no-audio", train, val, features, seed=0, grid=ONE, budget=FAST)
    assert accuracy(deaf.predict(test), test) < 0.4  # chance 0.25; "pretrained" gets > 0.6
    cued = [replace(item, answer=max(item.choices)) for item in train + val + test]  # the largest value
    train, val, test = cued[:len(train)], cued[len(train):len(train) + len(val)], cued[len(train) + len(val):]
    fitted = fit_internaliser("no-audio", train, val, features, seed=0, grid=ONE, budget=FAST)
    assert accuracy(fitted.predict(test), test) > 0.9


def test_unknown_kind_and_missing_inputs_are_clear_errors(splits):
    train, val, _, features = splits
    with pytest.raises(ValueError, match="unknown internaliser kind 'finetune'; valid: pretrained, scratch"):
        fit_internaliser("finetune", train, val, features, seed=0)
    with pytest.raises(ValueError, match="needs validation items"):
        fit_internaliser("pretrained", train, [], features, seed=0)
    with pytest.raises(ValueError, match="needs reasoner_scores"):
        fit_internaliser("reasoner", train, val, features, seed=0)
    with pytest.raises(ValueError, match="no reasoner scores for item"):
        fit_internaliser("reasoner", train, val, features, seed=0, reasoner_scores={}, grid=ONE, budget=FAST)


def test_tools_head_learns_the_answer_a_tool_measured():
    (train, f1), (val, f2), (test, f3) = synthetic(240, 1), synthetic(80, 2), synthetic(120, 3)
    features = merged(f1, f2, f3)
    features.embedding[:] = 0  # no audio cue at all: the answer's value is only in a tool's output
    rng = np.random.default_rng(0)
    fields = {item.id: {"tempo.ok": 1.0, "tempo.bpm": float(item.answer.split()[0]) + rng.normal(0, 0.1),
                        "tempo.noise": float(rng.normal())} for item in train + val + test}
    fitted = fit_internaliser("tools", train, val, features, seed=0, grid=ONE, budget=FAST, tool_fields=fields)
    assert accuracy(fitted.predict(test), test) > 0.6  # chance 0.25
    blind = fit_internaliser("pretrained", train, val, features, seed=0, grid=ONE, budget=FAST)
    assert accuracy(blind.predict(test), test) < 0.45  # the same head without the tool output


def test_tools_kind_needs_tool_fields_for_every_item():
    (train, f1), (val, f2) = synthetic(20, 1), synthetic(10, 2)
    with pytest.raises(ValueError, match="needs tool_fields"):
        fit_internaliser("tools", train, val, merged(f1, f2), seed=0, grid=ONE, budget=FAST)
    with pytest.raises(ValueError, match="no tool outputs for item"):
        fit_internaliser("tools", train, val, merged(f1, f2), seed=0, grid=ONE, budget=FAST,
                         tool_fields={item.id: {} for item in train})


def test_budget_grows_with_the_data_and_doubles_while_training_had_not_converged(splits):
    budget = TrainBudget(batch_size=16, max_epochs=3, min_steps=5, min_eval_every=1, patience=50, growths=2,
                         audio_components=32, text_components=16)
    assert budget.steps_for(8) == 5 and budget.steps_for(160) == 30  # 3 epochs of 10 batches
    train, val, _, features = splits
    slow = [replace(ONE[0], lr=1e-4)]  # still improving when a 5-step budget runs out
    grown = fit_internaliser("pretrained", train, val, features, seed=0, grid=slow,
                             budget=replace(budget, batch_size=256))  # one step per epoch: a 5-step budget
    assert grown.info["budget_steps"] == 20 and grown.info["grid"][0]["steps_run"] == 20  # 5 -> 10 -> 20
    still = [replace(ONE[0], lr=0.0)]  # never better than its start: patience, not the budget, stops it
    stopped = fit_internaliser("pretrained", train[:16], val, features, seed=0, grid=still,
                               budget=replace(budget, patience=2))
    assert stopped.info["budget_steps"] == 5 and not stopped.info["budget_hit"] and stopped.info["steps"] == 0


def test_the_grid_is_a_fixed_sample_of_the_wide_space():
    assert len(GRID) == 12 and len(set(GRID)) == 12 and GRID == sampled_grid(12, seed=0)
    for name, values in WIDE.items():
        assert {getattr(config, name) for config in GRID} <= set(values)
    assert {config.depth for config in GRID} == {1, 2} and len({config.hidden for config in GRID}) == 3


def test_a_deeper_head_learns_too(splits):
    train, val, test, features = splits
    fitted = fit_internaliser("pretrained", train, val, features, seed=0, grid=[replace(ONE[0], depth=2)],
                              budget=FAST)
    assert accuracy(fitted.predict(test), test) > 0.6 and fitted.info["config"]["depth"] == 2


def test_without_training_items_the_head_is_its_untrained_self(splits):
    train, val, test, features = splits
    blank = fit_internaliser("pretrained", [], val, features, seed=0, grid=ONE, budget=FAST)
    assert blank.info["untrained"] and blank.info["steps"] == 0 and blank.info["train_items"] == 0
    assert set(blank.predict(test)) == {0}  # every choice scores 0: the first one wins
    right = {item.id: [2.0 if j == item.answer_index else 0.0 for j in range(len(item.choices))]
             for item in train + val + test}
    reasoner = fit_internaliser("reasoner", [], val, features, seed=0, reasoner_scores=right, grid=ONE, budget=FAST)
    assert accuracy(reasoner.predict(test), test) == 1.0  # the untrained reasoner head is the reasoner
