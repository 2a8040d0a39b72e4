"""The cascade back-end end to end on a tiny random causal LM (CPU)."""

import os

import numpy as np
import pytest
import torch
from reasoner_helpers import model_config, pitch_result, request, tone

from audiorouter.contracts import ToolResult
from audiorouter.reasoner import build_backend
from audiorouter.reasoner.cascade import describe_audio
from audiorouter.reasoner.scoring import LMScorer


@pytest.fixture(scope="module")
def cascade(tiny_checkpoints):
    return build_backend(model_config("cascade", tiny_checkpoints["causal_lm"]))


def variants(item_id="q1"):
    """Evidence variants of one question, as a router's rollouts produce them."""
    tempo = ToolResult("tempo", "1", True, "tempo 120 BPM")
    broken = ToolResult("onsets", "1", False, error="timed out")
    return [request(item_id, evidence=e) for e in ([], [pitch_result()], [pitch_result(), tempo], [tempo, broken])]


def test_describe_audio_is_coarse_and_fixed():
    text = describe_audio(tone(2.0), 16_000)
    assert text == "Audio clip: 2.0 s long, loud (average level -13 dBFS, peak -10 dBFS), mostly tonal."
    noise = np.random.default_rng(0).normal(0, 0.3, 16_000).astype(np.float32)
    assert "mostly noisy" in describe_audio(noise, 16_000)
    assert describe_audio(tone(2.0), 16_000) == text


def test_scores_every_choice_and_prompt_carries_description_and_evidence(cascade):
    outcomes = cascade.answer(variants())
    for outcome in outcomes:
        assert outcome.error is None and len(outcome.scores) == 4
        assert outcome.chosen_index == int(np.argmax(outcome.scores))
        assert all(s <= 0 for s in outcome.scores)  # log-probabilities
        assert "Audio clip: 1.0 s long" in outcome.prompt
    assert "- pitch: median pitch A4" in outcomes[1].prompt and "Tool evidence" not in outcomes[0].prompt
    assert "- onsets: ERROR: timed out" in outcomes[3].prompt


def test_deterministic_across_calls_and_batch_mates(cascade):
    alone = cascade.answer([variants()[2]])[0]
    together = cascade.answer(variants() + variants("q2"))[2]
    assert alone.chosen_index == together.chosen_index
    np.testing.assert_allclose(alone.scores, together.scores, atol=1e-4)


@pytest.mark.parametrize("target", ["letter", "text", "letter_text"])
def test_shared_prefix_reuse_gives_the_same_scores(tiny_checkpoints, target):
    fast = build_backend(model_config("cascade", tiny_checkpoints["causal_lm"], score_target=target))
    slow = build_backend(model_config("cascade", tiny_checkpoints["causal_lm"], score_target=target,
                                      reuse_prefix=False, batch_size=1))
    batch = variants("q1") + variants("q2")[:2]
    for a, b in zip(fast.answer(batch), slow.answer(batch), strict=True):
        np.testing.assert_allclose(a.scores, b.scores, atol=1e-4)
        assert a.chosen_index == b.chosen_index


def test_prefix_reuse_computes_shared_spans_once(cascade, monkeypatch):
    seen = []
    real = cascade.scorer.forward
    monkeypatch.setattr(cascade.scorer, "forward", lambda pieces, chains: seen.append(pieces) or real(pieces, chains))
    outcomes = cascade.answer(variants())
    prompts = [cascade.tokenizer.encode(o.prompt, add_special_tokens=False) for o in outcomes]
    computed = sum(end - start for pieces in seen for _, start, end in pieces)
    head = len(os.path.commonprefix(prompts))  # the system turn and the audio description
    pitch_line = len(cascade.tokenizer.encode("- pitch: median pitch A4 (440.0 Hz)\n", add_special_tokens=False))
    assert computed <= sum(len(p) for p in prompts) - 3 * head - pitch_line  # each shared span ran once
    row, start, end = seen[0][0]
    first_node = cascade.tokenizer.decode(row.tokens[start:end])
    assert "Audio clip" in first_node and "Question:" not in first_node and "Tool evidence" not in first_node


def test_generation_mode_answers_or_says_it_named_no_choice(tiny_checkpoints):
    reasoner = build_backend(model_config("cascade", tiny_checkpoints["causal_lm"], answer_mode="generate"))
    outcome = reasoner.answer([request()])[0]
    assert outcome.error is None and isinstance(outcome.generated, str)
    assert outcome.chosen_index in (-1, 0, 1, 2, 3) and sum(outcome.scores) in (0.0, 1.0)
    assert "generate4" in reasoner.reasoner_id


def make_certain_of(reasoner, letter: str) -> None:
    """An easy case for a tiny model: replace its head by one that always prefers ``letter``."""
    lm = reasoner.model
    head = torch.nn.Linear(lm.config.hidden_size, lm.config.vocab_size, bias=True)
    torch.nn.init.zeros_(head.weight)
    torch.nn.init.zeros_(head.bias)
    with torch.no_grad():
        head.bias[reasoner.tokenizer.encode(letter, add_special_tokens=False)[0]] = 10.0
    lm.set_output_embeddings(head)
    reasoner.scorer = LMScorer(lm, reasoner.scorer.pad_id)


@pytest.mark.parametrize("letter, index", [("A", 0), ("C", 2)])
def test_scoring_and_generation_agree_on_easy_cases(tiny_checkpoints, letter, index):
    reasoner = build_backend(model_config("cascade", tiny_checkpoints["causal_lm"], max_new_tokens=1))
    make_certain_of(reasoner, letter)
    easy = [request("e1", answer=None), request("e2", question="Name the pitch.", evidence=[pitch_result()])]
    scored = reasoner.answer(easy)
    reasoner.config.answer_mode = "generate"
    generated = reasoner.answer(easy)
    assert [o.chosen_index for o in scored] == [o.chosen_index for o in generated] == [index, index]
    assert [o.generated for o in generated] == [letter, letter]


def test_letter_text_target_scores_the_letter_and_the_choice_text(tiny_checkpoints):
    reasoner = build_backend(model_config("cascade", tiny_checkpoints["causal_lm"], score_target="letter_text"))
    spans = reasoner.choice_spans(request())
    assert [reasoner.tokenizer.decode(span) for span in spans] == ["A. A4", "B. C5", "C. E5", "D. G4"]
    outcome = reasoner.answer([request()])[0]
    assert outcome.error is None and len(outcome.scores) == 4
    assert "Answer with the letter of the correct choice." in outcome.prompt


@pytest.mark.parametrize("target", ["letter", "text"])
def test_content_free_calibration_subtracts_each_choices_prior(tiny_checkpoints, target, monkeypatch):
    path = tiny_checkpoints["causal_lm"]
    raw = build_backend(model_config("cascade", path, score_target=target, calibration="none"))
    calibrated = build_backend(model_config("cascade", path, score_target=target, calibration="content_free"))
    batch = variants()
    priors = calibrated.content_free_priors(batch)
    assert priors[0] == priors[1] and len(priors[0]) == 4  # the prior depends on the choices, not the evidence
    assert len(set(priors[0])) > 1  # a random model is not indifferent between letters
    for plain, corrected, prior in zip(raw.answer(batch), calibrated.answer(batch), priors, strict=True):
        np.testing.assert_allclose(corrected.scores, np.subtract(plain.scores, prior), atol=1e-4)
        assert corrected.chosen_index == int(np.argmax(corrected.scores))
    assert calibrated.reasoner_id != raw.reasoner_id and "content_free" in calibrated.reasoner_id
    monkeypatch.setattr(calibrated.scorer, "score", lambda *a, **k: pytest.fail("priors are computed once"))
    assert calibrated.content_free_priors(batch) == priors


def test_content_free_prompt_holds_no_content(tiny_checkpoints, monkeypatch):
    reasoner = build_backend(model_config("cascade", tiny_checkpoints["causal_lm"], calibration="content_free"))
    scored = []
    real = reasoner.scorer.score
    monkeypatch.setattr(reasoner.scorer, "score", lambda rows, *a: scored.append(rows) or real(rows, *a))
    reasoner.content_free_priors([variants()[1]])
    prompt = reasoner.tokenizer.decode(scored[0][0].tokens)
    assert "Question: N/A" in prompt and "A. N/A" in prompt and "D. N/A" in prompt
    assert "Tool evidence" not in prompt and "Audio clip" not in prompt and "A4" not in prompt


def test_auto_answering_is_the_presets_default_and_letter_otherwise(tiny_checkpoints):
    from audiorouter.reasoner.model_backend import resolve_answering
    from audiorouter.reasoner.packaged import PACKAGED_MODELS

    plain = resolve_answering(model_config("cascade", tiny_checkpoints["causal_lm"]))
    assert (plain.score_target, plain.calibration) == ("letter", "none")
    for name, preset in PACKAGED_MODELS.items():
        resolved = resolve_answering(model_config("cascade", name))
        assert (resolved.score_target, resolved.calibration) == (preset.score_target, preset.calibration)
    chosen = resolve_answering(model_config("cascade", "qwen2.5-coder-1.5b", score_target="text", calibration="none"))
    assert (chosen.score_target, chosen.calibration) == ("text", "none")
