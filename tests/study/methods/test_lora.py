"""internalise-lalm: a LoRA adapter on the lalm or cascade reasoner, on tiny random models (CPU).

The items are short tones with four numeric choices whose answer is always at the same
position: the choice the untrained model picks least, so what the adapter learns is
visible (the random model prefers one letter whatever it hears).
"""

from __future__ import annotations

import functools
import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from audiorouter.config import ConfigError, ReasonerConfig, load_config
from audiorouter.contracts import AudioQAItem
from audiorouter.data.audio_io import encode_flac
from audiorouter.data.items import write_items
from audiorouter.reasoner import build_backend
from audiorouter.reasoner.lalm import load_audio_lm
from audiorouter.study import methods
from audiorouter.study.context import StudyContext, TrialSpec
from audiorouter.study.dataset import StudyData
from audiorouter.study.methods import lora
from audiorouter.study.methods.head_inputs import FEATURES_FILE, prepare_internalisation
from audiorouter.study.methods.lora import AdapterBudget, fit_reasoner_adapter, load_reasoner_adapter
from audiorouter.study.methods.lora_reasoners import AdaptedLalmReasoner, AdapterConfig
from audiorouter.testing.synthetic_models import save_synthetic_model

SR = 16_000
FAST = AdapterBudget(batch_size=8, max_steps=10, min_eval_every=5, patience=2)
LEARN = AdapterConfig(lr=1e-2)


def config(model: str, **overrides) -> ReasonerConfig:
    values = dict(backend="lalm", model=model, dtype="float32", device="cpu", memo_path="", batch_size=8)
    return ReasonerConfig(**(values | overrides))


def item(index: int, answer: int) -> AudioQAItem:
    rng = np.random.default_rng(index)
    t = np.arange(SR // 2) / SR
    waveform = (0.3 * np.sin(2 * np.pi * (200 + 40 * index) * t)).astype(np.float32)
    choices = [f"{v} Hz" for v in rng.choice(np.arange(100, 1000), 4, replace=False)]
    return AudioQAItem(id=f"tone-{index}", question="What is the pitch of the tone?", choices=choices,
                       answer=choices[answer], task="tone", category="test", sub_category="test", difficulty="easy",
                       source="test", audio=encode_flac(waveform, SR))


def accuracy(picks: list[int], items: list[AudioQAItem]) -> float:
    return float(np.mean([p == i.answer_index for p, i in zip(picks, items, strict=True)]))


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> str:
    return str(save_synthetic_model("qwen2_audio", tmp_path_factory.mktemp("tiny") / "qwen2_audio"))


def least_picked_splits(reasoner_config: ReasonerConfig) -> tuple[list, list, list]:
    """(train, val, test): 16, 8 and 8 items answered by the choice the untrained model picks least."""
    frozen = build_backend(reasoner_config)
    picks = [o.chosen_index for o in frozen.answer([lora._request(item(i, 0)) for i in range(16)])]
    answer = int(np.argmin(np.bincount(picks, minlength=4)))
    return ([item(i, answer) for i in range(16)], [item(i, answer) for i in range(100, 108)],
            [item(i, answer) for i in range(200, 208)])


@pytest.fixture(scope="module")
def splits(checkpoint):
    return least_picked_splits(config(checkpoint))


@pytest.fixture(scope="module")
def fitted(checkpoint, splits):
    train, val, _ = splits
    return fit_reasoner_adapter(config(checkpoint), train, val, seed=0, budget=FAST, adapter=LEARN)


def test_training_lowers_the_loss_and_changes_only_the_adapter(fitted, splits, checkpoint):
    train, _, _ = splits
    with fitted.reasoner.peft.disable_adapter():
        _, untrained_loss = fitted.evaluate(train)
    assert fitted.evaluate(train)[1] < untrained_loss - 0.3
    evaluations = fitted.info["evaluations"]
    assert [e["step"] for e in evaluations] == [0, 5, 10] and fitted.info["steps_run"] == 10
    assert fitted.info["val_loss"] < evaluations[0]["val_loss"]

    frozen = dict(load_audio_lm(checkpoint, torch.float32, torch.device("cpu"))[0].named_parameters())
    base = {name.replace(".base_layer", ""): p for name, p in fitted.reasoner.model.named_parameters()
            if "lora_" not in name}
    assert base.keys() == frozen.keys()
    assert all(torch.equal(p, frozen[name]) and not p.requires_grad for name, p in base.items())
    weights = fitted.reasoner.adapter_weights()
    assert weights and all("language_model" in name and name.split(".")[-4] in ("q_proj", "v_proj") for name in weights)
    assert all(p.abs().sum() > 0 for name, p in weights.items() if "lora_B" in name)  # B starts at zero


def test_the_adapter_learns_a_fixed_answer_pattern(fitted, splits):
    _, _, test = splits
    with fitted.reasoner.peft.disable_adapter():
        untrained = accuracy(fitted.predict(test), test)
    assert fitted.info["evaluations"][0]["val_accuracy"] <= 0.25 and untrained <= 0.25
    assert accuracy(fitted.predict(test), test) >= 0.9


def test_the_fit_is_deterministic_for_a_seed(fitted, splits, checkpoint):
    train, val, _ = splits
    again = fit_reasoner_adapter(config(checkpoint), train, val, seed=0, budget=FAST, adapter=LEARN)
    assert again.info["evaluations"] == fitted.info["evaluations"]
    first, second = fitted.reasoner.adapter_weights(), again.reasoner.adapter_weights()
    assert all(torch.equal(first[name], second[name]) for name in first)
    assert again.reasoner.reasoner_id == fitted.reasoner.reasoner_id


def test_predict_scores_with_the_adapter_and_the_saved_adapter_reloads(fitted, splits, checkpoint, tmp_path):
    _, _, test = splits
    picks = fitted.predict(test)
    assert len(picks) == len(test) and all(0 <= p < len(i.choices) for p, i in zip(picks, test, strict=True))
    frozen_id = build_backend(config(checkpoint)).reasoner_id
    assert fitted.reasoner.reasoner_id.startswith(frozen_id + "|lora-")  # another reasoner: never its memo rows

    folder = fitted.save(tmp_path / "adapter")
    assert {"adapter_config.json", "adapter_model.safetensors"} <= {p.name for p in folder.iterdir()}
    loaded = load_reasoner_adapter(config(checkpoint), folder)
    assert loaded.predict(test) == picks
    assert loaded.reasoner.reasoner_id == fitted.reasoner.reasoner_id
    np.testing.assert_allclose(loaded.evaluate(test), fitted.evaluate(test), atol=1e-5)


@pytest.mark.parametrize("target", ["letter", "text"])
def test_the_validation_loss_read_from_the_scores_is_the_training_loss(checkpoint, splits, target):
    train, _, _ = splits
    reasoner = AdaptedLalmReasoner(config(checkpoint, score_target=target))
    _, from_scores = lora._evaluate(reasoner, train[:4])
    with torch.no_grad():
        teacher_forced = lora._loss(reasoner, train[:4]).item()
    assert from_scores == pytest.approx(teacher_forced, abs=1e-4)


def test_the_omni_thinker_trains_too(tmp_path, splits):
    path = str(save_synthetic_model("qwen2_5_omni_thinker", tmp_path / "omni"))
    train, val, test = splits
    fitted = fit_reasoner_adapter(config(path), train[:8], val[:4], seed=0,
                              budget=replace(FAST, max_steps=4, min_eval_every=4), adapter=LEARN)
    assert fitted.info["evaluations"][-1]["val_loss"] < fitted.info["evaluations"][0]["val_loss"]
    assert all(0 <= p < 4 for p in fitted.predict(test[:4]))


def test_clear_errors_for_a_reasoner_it_cannot_adapt(splits):
    train, val, _ = splits
    with pytest.raises(ValueError, match="lalm or cascade back-end.*reasoner.backend is 'reference'"):
        fit_reasoner_adapter(ReasonerConfig(), train, val, seed=0)
    with pytest.raises(ValueError, match="answer_mode must be 'score'"):
        fit_reasoner_adapter(config("unused", answer_mode="generate"), train, val, seed=0)
    study_methods = "study.methods=[router-ppo,internalise-lalm]"
    with pytest.raises(ConfigError, match="internalise-lalm fine-tunes a model reasoner \\(the lalm or cascade "
                                          "back-end\\), but reasoner.backend is 'reference'"):
        methods.check_study(load_config(overrides=[study_methods]))
    methods.check_study(load_config(overrides=[study_methods, "reasoner.backend=lalm",
                                               "reasoner.model=some/audio-lm"]))  # accepted


def test_a_study_trial_fits_saves_and_scores(checkpoint, splits, tmp_path, monkeypatch):
    train, val, test = splits
    data_dir = tmp_path / "items"
    for split, items in (("pool", train), ("validation", val), ("test", test)):
        write_items(items, data_dir, split)
    tasks = {i.id: i.task for i in train + val + test}
    data = StudyData(data_dir, ["tone"], {0: [i.id for i in train]}, [i.id for i in val], [i.id for i in test],
                     tasks, "fingerprint", len(train))
    cfg = load_config(overrides=["study.methods=[router-ppo,internalise-lalm]", "reasoner.backend=lalm",
                                 f"reasoner.model={checkpoint}", "reasoner.dtype=float32", "reasoner.device=cpu"])
    ctx = StudyContext(cfg, data, [], str(tmp_path))
    prepare_internalisation(ctx)
    assert not (tmp_path / FEATURES_FILE).exists()  # the adapter needs no item features

    monkeypatch.setattr(lora, "AdapterBudget", functools.partial(AdapterBudget, max_steps=2,
                                                                             min_eval_every=1, patience=1))
    folder = tmp_path / "trial"
    folder.mkdir()
    correct, info = methods.train_and_score(TrialSpec("internalise-lalm", 8, 0), ctx, folder)
    assert list(correct) == ["test"] and len(correct["test"]) == len(test) and info["fit"]["train_items"] == 8
    assert (folder / "adapter" / "adapter_config.json").exists()
    assert json.loads((folder / "fit.json").read_text())["steps_run"] == info["fit"]["steps_run"] <= 2


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_adapter_trains_and_answers_on_gpu_in_bf16(checkpoint, splits):
    """Where the method is meant to run: CUDA, bf16 (the reasoner's "auto" choices there)."""
    train, val, test = splits
    fitted = fit_reasoner_adapter(config(checkpoint, dtype="auto", device="auto"), train, val, seed=0,
                              budget=FAST, adapter=LEARN)
    assert fitted.reasoner.device.type == "cuda" and fitted.reasoner.dtype == torch.bfloat16
    assert fitted.info["steps_run"] > 0
    picks = fitted.predict(test)
    assert all(0 <= p < 4 for p in picks)
    assert accuracy(picks, test) >= 0.75  # the fixed answer position, learnt in bf16 too


# ------------------------------------------------------------------ the cascade back-end


def cascade_config(model: str, **overrides) -> ReasonerConfig:
    return config(model, **({"backend": "cascade"} | overrides))


@pytest.fixture(scope="module")
def text_checkpoint(tmp_path_factory) -> str:
    return str(save_synthetic_model("causal_lm", tmp_path_factory.mktemp("tiny") / "causal_lm"))


@pytest.fixture(scope="module")
def text_splits(text_checkpoint):
    return least_picked_splits(cascade_config(text_checkpoint))


def test_the_cascade_reasoner_learns_with_an_adapter_on_its_decoder_only(text_checkpoint, text_splits, tmp_path):
    train, val, test = text_splits
    fitted = fit_reasoner_adapter(cascade_config(text_checkpoint), train, val, seed=0, budget=FAST, adapter=LEARN)
    with fitted.reasoner.peft.disable_adapter():
        untrained = accuracy(fitted.predict(test), test)
    assert untrained <= 0.25 and accuracy(fitted.predict(test), test) >= 0.9
    weights = fitted.reasoner.adapter_weights()
    assert weights and all(".layers." in name and name.split(".")[-4] in ("q_proj", "v_proj") for name in weights)
    assert not any("lm_head" in name for name in weights)
    frozen_id = build_backend(cascade_config(text_checkpoint)).reasoner_id
    assert fitted.reasoner.reasoner_id.startswith(frozen_id + "|lora-")
    loaded = load_reasoner_adapter(cascade_config(text_checkpoint), fitted.save(tmp_path / "adapter"))
    assert loaded.predict(test) == fitted.predict(test)


@pytest.mark.parametrize("target", ["letter", "text"])
def test_the_cascade_validation_loss_read_from_the_scores_is_the_training_loss(text_checkpoint, text_splits, target):
    train, _, _ = text_splits
    reasoner = lora.adapted_reasoner(cascade_config(text_checkpoint, score_target=target, calibration="none"))
    _, from_scores = lora._evaluate(reasoner, train[:4])
    with torch.no_grad():
        teacher_forced = lora._loss(reasoner, train[:4]).item()
    assert from_scores == pytest.approx(teacher_forced, abs=1e-4)


def test_content_free_priors_follow_the_adapter(text_checkpoint, text_splits, tmp_path):
    """Calibration subtracts priors scored by the model: after training they must be the
    adapted model's, as a freshly loaded copy of the same adapter computes them."""
    train, val, test = text_splits
    calibrated = cascade_config(text_checkpoint, calibration="content_free")
    fitted = fit_reasoner_adapter(calibrated, train, val, seed=0, budget=FAST, adapter=LEARN)
    trained_scores = [o.scores for o in lora._answer(fitted.reasoner, test)]
    loaded = load_reasoner_adapter(calibrated, fitted.save(tmp_path / "adapter"))
    np.testing.assert_allclose(trained_scores, [o.scores for o in lora._answer(loaded.reasoner, test)], atol=1e-5)
