"""The lalm back-end end to end on tiny random Qwen2-Audio and Qwen2.5-Omni thinker models."""

import numpy as np
import pytest
import torch
from reasoner_helpers import model_config, pitch_result, request, tone

from audiorouter.reasoner import build_backend
from audiorouter.reasoner.lalm import AUDIO_TOKEN
from audiorouter.testing.synthetic_models import save_synthetic_model

KINDS = ["qwen2_audio", "qwen2_5_omni_thinker"]


@pytest.fixture(scope="module", params=KINDS)
def lalm(request, tiny_checkpoints):
    return build_backend(model_config("lalm", tiny_checkpoints[request.param]))


def batch():
    return [
        request("a", evidence=[pitch_result()]),
        request("b", waveform=tone(3.0, 220.0), choices=["A3", "A4"], answer="A3"),
        request("c", waveform=tone(0.5), answer=None),
    ]


def test_scores_a_batch_of_waveforms(lalm):
    outcomes = lalm.answer(batch())
    assert [o.error for o in outcomes] == [None, None, None]
    assert [len(o.scores) for o in outcomes] == [4, 2, 4]
    assert all(o.chosen_index == int(np.argmax(o.scores)) for o in outcomes)
    assert outcomes[0].correct in (True, False) and outcomes[2].correct is None
    assert AUDIO_TOKEN in outcomes[0].prompt and "- pitch: median pitch A4" in outcomes[0].prompt


def test_batched_equals_one_at_a_time(lalm):
    together = lalm.answer(batch())
    alone = [lalm.answer([r])[0] for r in batch()]
    for a, b in zip(together, alone, strict=True):
        np.testing.assert_allclose(a.scores, b.scores, atol=1e-4)


def test_text_scoring_and_generation_modes(lalm):
    lalm.config.score_target = "text"
    try:
        outcome = lalm.answer([request()])[0]
        assert outcome.error is None and len(outcome.scores) == 4 and all(s <= 0 for s in outcome.scores)
        lalm.config.answer_mode = "generate"
        outcome = lalm.answer([request()])[0]
        assert outcome.error is None and isinstance(outcome.generated, str)
        assert outcome.chosen_index in (-1, 0, 1, 2, 3)
    finally:
        lalm.config.score_target, lalm.config.answer_mode = "letter", "score"


def test_audio_the_processor_rejects_fails_only_that_request(lalm):
    outcomes = lalm.answer([request("ok"), request("8k", sample_rate=8000), request("ok2")])
    assert outcomes[0].error is None and outcomes[2].error is None
    assert outcomes[1].error.startswith("audio rejected by the processor") and "16000" in outcomes[1].error


def test_inputs_match_the_qwen2_audio_processor(tiny_checkpoints):
    from transformers import Qwen2AudioProcessor, WhisperFeatureExtractor

    reasoner = build_backend(model_config("lalm", tiny_checkpoints["qwen2_audio"]))
    path = tiny_checkpoints["qwen2_audio"]
    processor = Qwen2AudioProcessor(WhisperFeatureExtractor.from_pretrained(path), reasoner.tokenizer)
    req = request(waveform=tone(2.3))
    prepared = reasoner.prepare(req, "")
    reference = processor(text=prepared.prompt, audio=[req.waveform], sampling_rate=16_000, return_tensors="np")
    assert prepared.token_ids == reference["input_ids"][0].tolist()
    np.testing.assert_allclose(prepared.features, reference["input_features"][0], atol=1e-6)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("kind", KINDS)
def test_lalm_on_gpu_in_bf16(tmp_path, kind):
    path = save_synthetic_model(kind, tmp_path / kind)
    reasoner = build_backend(model_config("lalm", str(path), dtype="auto", device="auto"))
    assert reasoner.dtype == torch.bfloat16 and reasoner.device.type == "cuda"
    outcomes = reasoner.answer(batch())
    assert [o.error for o in outcomes] == [None, None, None]


def variant_batch():
    """Two clips, each asked with three evidence variants, mixed in order."""
    out = []
    for clip, waveform in (("x", tone(1.0, 440.0)), ("y", tone(2.0, 220.0))):
        for k, evidence in enumerate(([], [pitch_result()], [pitch_result("median pitch A3 (220.0 Hz)")])):
            out.append(request(f"{clip}{k}", waveform=waveform, evidence=evidence))
    return out[::2] + out[1::2]


@pytest.mark.parametrize("target", ["letter", "text"])
@pytest.mark.parametrize("kind", KINDS)
def test_shared_spans_give_the_same_scores(tiny_checkpoints, kind, target):
    path = tiny_checkpoints[kind]
    shared = build_backend(model_config("lalm", path, score_target=target))
    plain = build_backend(model_config("lalm", path, score_target=target, reuse_prefix=False))
    assert shared.shares_prefixes() and not plain.shares_prefixes()
    encoded, computed, rows = [], [], []
    real_audio, real_forward, real_score = shared.audio_features, shared.scorer.forward, shared.scorer.score
    shared.audio_features = lambda items: encoded.append(len(items)) or real_audio(items)
    shared.scorer.forward = lambda pieces, chains: computed.append(sum(e - s for _, s, e in pieces)) or real_forward(
        pieces, chains)
    shared.scorer.score = lambda scored, *args: rows.extend(scored) or real_score(scored, *args)
    batch = variant_batch()
    for a, b in zip(shared.answer(batch), plain.answer(batch), strict=True):
        assert a.error is None and b.error is None
        np.testing.assert_allclose(a.scores, b.scores, atol=1e-4)
        assert a.chosen_index == b.chosen_index
    assert encoded == [2]  # the audio encoder ran once per clip, not once per variant
    assert sum(computed) < 0.7 * sum(len(row.tokens) for row in rows)  # the audio ran once per clip
