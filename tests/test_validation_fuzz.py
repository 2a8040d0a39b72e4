"""``validation`` under generated values: every check passes or raises its own error
(ValidationError / AudioError, a message), never another exception."""

from __future__ import annotations

import json

import numpy as np
from fuzz_strategies import FUZZ, choices_values, deep_json, json_values, texts
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from audiorouter.validation import (
    MAX_JSON_DEPTH,
    AudioError,
    ValidationError,
    check_audio,
    check_qa,
    json_depth,
    json_list_items,
    loads_json,
)


@FUZZ
@given(texts | json_values, choices_values, json_values | texts)
def test_question_choices_and_answer_pass_or_name_the_problem(question, choices, answer):
    try:
        check_qa(question, choices, answer)
    except ValidationError as exc:
        assert str(exc)
        return
    assert isinstance(question, str) and question.strip() and (answer is None or answer in choices)


# any dtype and shape; float elements include NaN and infinity
waveforms = hnp.arrays(st.sampled_from([np.float32, np.float64, np.int16, np.complex64, np.bool_]),
                       hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=40))


@FUZZ
@given(waveforms | json_values, st.integers(-10, 10**7) | st.floats(allow_nan=True) | st.booleans() | st.none())
def test_audio_passes_or_is_an_audio_error(waveform, sample_rate):
    try:
        check_audio(waveform, sample_rate)
    except AudioError as exc:
        assert str(exc)
        return
    assert waveform.ndim == 1 and waveform.size > 0 and np.isfinite(waveform).all()


@FUZZ
@given(json_values)
def test_json_within_the_limit_round_trips(value):
    text = json.dumps(value)
    if json_depth(text) <= MAX_JSON_DEPTH:
        assert json.dumps(loads_json(text, "x")) == text
    items = json_list_items(text)
    if isinstance(value, list):
        assert items is not None and json.dumps([json.loads(item) for item in items]) == text
    else:
        assert items is None


@FUZZ
@given(deep_json | st.text(alphabet='[]{}",:\\a1 ', max_size=400))
def test_any_text_parses_or_is_refused_without_recursion(text):
    try:
        loads_json(text, "field")
    except ValidationError as exc:
        assert "over the limit" in str(exc)
    except json.JSONDecodeError:
        pass
    json_list_items(text)  # never raises

