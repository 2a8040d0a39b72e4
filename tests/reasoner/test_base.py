"""The interface, the registry, the config section, and bad input per request."""

import numpy as np
import pytest
from reasoner_helpers import model_config, request

from audiorouter.config import ConfigError, ReasonerConfig, load_config
from audiorouter.reasoner import (
    Answer,
    Reasoner,
    build_backend,
    check_backend,
    get_reasoner,
    register_reasoner,
)


@register_reasoner
class FirstChoice(Reasoner):
    """A test back-end: always the first choice; records what it was asked."""

    name = "test-first-choice"
    asked: list = []

    def answer_valid(self, requests, evidence_texts):
        FirstChoice.asked.append(list(evidence_texts))
        return [Answer(0, [1.0] + [0.0] * (len(r.choices) - 1), r.question) for r in requests]


def test_default_backend_is_reference_and_unknown_names_list_the_valid_ones():
    assert load_config().reasoner.backend == "reference"
    with pytest.raises(ConfigError, match="valid: .*cascade.*lalm.*reference"):
        check_backend(load_config(overrides=["reasoner.backend=lalmm"]).reasoner)
    with pytest.raises(ConfigError, match="reasoner.model must be set"):
        load_config(overrides=["reasoner.backend=cascade"])
    with pytest.raises(ConfigError, match="answer_mode"):
        load_config(overrides=["reasoner.answer_mode=vote"])
    with pytest.raises(ConfigError, match="unknown key 'reasoner.modle'"):
        load_config(overrides=["reasoner.modle=x"])


def test_registered_backend_is_built_by_name_and_answers_in_order():
    reasoner = build_backend(ReasonerConfig(backend="test-first-choice", memo_path=""))
    assert get_reasoner("test-first-choice") is FirstChoice
    assert reasoner.reasoner_id == "test-first-choice-v1"
    outcomes = reasoner.answer([request("a", answer="A4"), request("b", answer="C5")])
    assert [o.item_id for o in outcomes] == ["a", "b"]
    assert [o.correct for o in outcomes] == [True, False]
    assert outcomes[0].latency_ms >= 0 and outcomes[0].error is None


def test_request_without_answer_has_unknown_correctness():
    outcome = build_backend(ReasonerConfig(backend="test-first-choice")).answer([request(answer=None)])[0]
    assert outcome.correct is None and outcome.chosen_index == 0


BAD_REQUESTS = {
    "at least 2 options, got 0": request("empty", choices=[], answer=None),
    "at least 2 options, got 1": request("one", choices=["A4"], answer=None),
    "duplicate choice(s) 'A4' and 'a4 '": request("dup", choices=["A4", "C5", "a4 "], answer=None),
    "not a string": request("nonstr", choices=["A4", 440], answer=None),
    "at most 26": request("many", choices=[f"c{i}" for i in range(27)], answer=None),
    "choice 1 is empty": request("blank", choices=["A4", "  "], answer=None),
    "not one of the choices": request("answer", answer="B7"),
    "question is empty": request("noq", question=" "),
    "list of ToolResult": request("ev", evidence=[{"tool": "pitch", "summary": "A4"}]),
    "NaN": request("nan", waveform=np.full(100, np.nan, dtype=np.float32)),
    "sample rate 100 Hz is outside": request("rate", sample_rate=100),
    "no samples": request("silent", waveform=np.zeros(0, dtype=np.float32)),
    "1-D numpy array": request("stereo", waveform=np.zeros((2, 100), dtype=np.float32)),
}


@pytest.mark.parametrize("reason", list(BAD_REQUESTS))
def test_each_bad_request_gets_an_error_and_the_rest_is_answered(reason):
    reasoner = build_backend(ReasonerConfig(backend="test-first-choice"))
    outcomes = reasoner.answer([request("good-1"), BAD_REQUESTS[reason], request("good-2")])
    assert [o.error for o in (outcomes[0], outcomes[2])] == [None, None]
    assert reason in outcomes[1].error and outcomes[1].chosen_index == -1 and outcomes[1].correct is None


def test_backend_sees_the_rendered_evidence():
    from reasoner_helpers import pitch_result

    FirstChoice.asked.clear()
    build_backend(ReasonerConfig(backend="test-first-choice")).answer([request(evidence=[pitch_result()]), request()])
    assert FirstChoice.asked == [["Tool evidence:\n- pitch: median pitch A4 (440.0 Hz)", ""]]


def test_model_backends_refuse_prompts_over_the_context(tiny_checkpoints):
    for backend, kind in (("cascade", "causal_lm"), ("lalm", "qwen2_audio")):
        reasoner = build_backend(model_config(backend, tiny_checkpoints[kind], max_prompt_tokens=300))
        long = request("long", question="Which note? " + "very " * 200)
        outcomes = reasoner.answer([request("short", question="Which?"), long])
        assert outcomes[0].error is None or backend == "lalm"
        assert "prompt too long" in outcomes[1].error and "the limit is 300" in outcomes[1].error


def test_a_failing_backend_turns_its_batch_into_error_outcomes(monkeypatch):
    reasoner = build_backend(ReasonerConfig(backend="test-first-choice"))
    monkeypatch.setattr(reasoner, "answer_valid", lambda reqs, texts: 1 / 0)
    outcomes = reasoner.answer([request("a"), request("b", choices=[])])
    assert outcomes[0].error.startswith("reasoner failed: ZeroDivisionError")
    assert "at least 2 options" in outcomes[1].error
