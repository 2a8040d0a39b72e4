"""The one check of requests and records (audiorouter/validation.py): each rule, its
message, and that the reasoner reports exactly the same problem (no Ray)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from audiorouter.contracts import ReasonerRequest
from audiorouter.reasoner.base import request_problem
from audiorouter.reasoner.prompting import LETTERS
from audiorouter.validation import (
    MAX_CHOICES,
    MAX_TEXT_CHARS,
    AudioError,
    ValidationError,
    check_audio,
    check_choices,
    check_qa,
    check_request,
    inside_root,
)

SR = 16_000
TONE = (0.3 * np.sin(2 * np.pi * 440 * np.arange(SR) / SR)).astype(np.float32)
GOOD = ("Which note?", ["A4", "C5", "E5"])

# (name, question, choices, answer, expected message fragment)
BAD_QA = [
    ("question-empty", "  ", GOOD[1], None, "the question is empty"),
    ("question-not-str", 7, GOOD[1], None, "the question is not a string (type int)"),
    ("question-too-long", "q" * (MAX_TEXT_CHARS + 1), GOOD[1], None, f"over the limit of {MAX_TEXT_CHARS}"),
    ("choices-not-list", GOOD[0], "A4, C5", None, "choices must be a list of strings, got type str"),
    ("no-choices", GOOD[0], [], None, "choices must hold at least 2 options, got 0"),
    ("one-choice", GOOD[0], ["A4"], None, "choices must hold at least 2 options, got 1"),
    ("27-choices", GOOD[0], [f"c{i}" for i in range(27)], None, "at most 26 options (one letter A-Z each), got 27"),
    ("choice-not-str", GOOD[0], ["A4", 440], None, "choice 1 (440) is not a string (type int)"),
    ("empty-choice", GOOD[0], ["A4", "C5", ""], None, "choice 2 is empty ('')"),
    ("blank-choice", GOOD[0], ["A4", "   "], None, "choice 1 is empty"),
    ("case-duplicate", GOOD[0], ["Yes", "yes"], None, "duplicate choice(s) 'Yes' and 'yes'"),
    ("space-duplicate", GOOD[0], ["Yes", " yes "], None, "duplicate choice(s) 'Yes' and ' yes '"),
    ("choice-too-long", GOOD[0], ["a", "b" * (MAX_TEXT_CHARS + 1)], None, "choice 1 is 10001 characters long"),
    ("answer-not-a-choice", GOOD[0], GOOD[1], "B7", "answer 'B7' is not one of the choices ['A4', 'C5', 'E5']"),
    ("answer-case-differs", GOOD[0], GOOD[1], "a4", "answer 'a4' is not one of the choices"),
]


@pytest.mark.parametrize("question, choices, answer, message", [c[1:] for c in BAD_QA], ids=[c[0] for c in BAD_QA])
def test_each_bad_question_or_choices_is_named(question, choices, answer, message):
    with pytest.raises(ValidationError) as caught:
        check_qa(question, choices, answer)
    assert message in str(caught.value)
    assert not isinstance(caught.value, AudioError)


@pytest.mark.parametrize("question, choices, answer, message", [c[1:] for c in BAD_QA], ids=[c[0] for c in BAD_QA])
def test_the_reasoner_reports_the_same_problem(question, choices, answer, message):
    request = ReasonerRequest("x", TONE, SR, question, choices, answer, [])
    with pytest.raises(ValidationError) as caught:
        check_request(question, choices, answer, TONE, SR)
    assert request_problem(request) == f"bad request: {caught.value}"


def test_valid_items_pass_and_the_answer_is_optional_unless_required():
    check_qa(*GOOD)
    check_qa(GOOD[0], GOOD[1], "C5", answer_required=True)
    check_qa("Q?", [f"c{i}" for i in range(MAX_CHOICES)], "c25")
    assert check_choices(("x", "y")) == ["x", "y"]  # a tuple is fine, a list comes back
    with pytest.raises(ValidationError, match="answer None is not one of the choices"):
        check_qa(*GOOD, None, answer_required=True)


def test_the_choice_limit_is_the_reasoners_letters():
    assert MAX_CHOICES == len(LETTERS) == 26


BAD_AUDIO = [
    ("empty", np.zeros(0, np.float32), SR, "audio has no samples"),
    ("nan", np.array([0.0, np.nan, 0.1], np.float32), SR, "audio has 1 NaN/inf samples"),
    ("inf", np.array([np.inf, -np.inf, 0.0], np.float32), SR, "audio has 2 NaN/inf samples"),
    ("stereo", np.zeros((2, 100), np.float32), SR, "1-D numpy array (mono samples), got (2, 100)"),
    ("a-list", [0.0, 0.1], SR, "1-D numpy array (mono samples), got list"),
    ("rate-float", TONE, 16000.0, "the sample rate must be an integer, got 16000.0"),
    ("rate-bool", TONE, True, "the sample rate must be an integer"),
    ("rate-low", TONE, 500, "sample rate 500 Hz is outside the supported range 1000-768000 Hz"),
    ("rate-high", TONE, 1_000_000, "sample rate 1000000 Hz is outside"),
]


@pytest.mark.parametrize("waveform, rate, message", [c[1:] for c in BAD_AUDIO], ids=[c[0] for c in BAD_AUDIO])
def test_each_bad_clip_is_an_audio_error_and_the_reasoner_agrees(waveform, rate, message):
    with pytest.raises(AudioError) as caught:
        check_audio(waveform, rate)
    assert message in str(caught.value)
    request = ReasonerRequest("x", waveform, rate, GOOD[0], GOOD[1], None, [])
    assert request_problem(request) == f"bad audio: {caught.value}"


def test_duration_limit_and_a_good_clip():
    check_audio(TONE, SR)
    check_audio(TONE, np.int32(SR))  # numpy integers are integers
    with pytest.raises(AudioError, match="duration 1.0 s exceeds the limit of 0.5 s"):
        check_audio(TONE, SR, max_duration_s=0.5)


def test_text_is_checked_before_audio():
    with pytest.raises(ValidationError, match="duplicate choice"):
        check_request("Q?", ["a", "A"], None, np.full(4, np.nan, np.float32), SR)


# ------------------------------------------------------------------------------ paths


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "root"
    (root / "audio").mkdir(parents=True)
    (root / "audio" / "a.wav").write_bytes(b"x")
    (tmp_path / "secret.wav").write_bytes(b"x")
    return root


def test_paths_inside_the_root_are_returned_as_given(root):
    assert inside_root(root, "./audio/a.wav") == root / "audio" / "a.wav"
    assert inside_root(root, "audio/../audio/a.wav") == root / "audio/../audio/a.wav"
    assert inside_root(root, str(root / "audio" / "a.wav")) == root / "audio" / "a.wav"  # absolute, but inside
    os.symlink(root / "audio" / "a.wav", root / "link.wav")  # a symlink that stays inside
    assert inside_root(root, "link.wav") == root / "link.wav"
    assert inside_root(root, "audio/missing.wav") == root / "audio" / "missing.wav"  # existence is decode's job


@pytest.mark.parametrize("relative", ["../secret.wav", "audio/../../secret.wav", "/etc/passwd", "escape.wav"])
def test_paths_outside_the_root_are_refused_with_the_path_named(root, relative):
    os.symlink(root.parent / "secret.wav", root / "escape.wav")
    with pytest.raises(ValidationError) as caught:
        inside_root(root, relative)
    assert f"audio path {relative!r} resolves to" in str(caught.value)
    assert "outside the audio root" in str(caught.value)


def test_a_root_reached_through_a_symlink_still_contains_its_files(root, tmp_path):
    os.symlink(root, tmp_path / "alias")
    assert inside_root(tmp_path / "alias", "audio/a.wav") == tmp_path / "alias" / "audio" / "a.wav"


def test_a_symlink_loop_or_nul_byte_is_a_validation_error(root):
    os.symlink(root / "loop-b", root / "loop-a")
    os.symlink(root / "loop-a", root / "loop-b")
    for relative in ("loop-a", "bad\x00name.wav"):
        with pytest.raises(ValidationError, match="cannot be resolved|outside the audio root"):
            inside_root(root, relative)


def test_json_deeper_than_the_limit_is_refused_before_parsing():
    from audiorouter.validation import MAX_JSON_DEPTH, json_depth, json_list_items, loads_json

    assert json_depth('[1, {"a": "[[[{{{", "b": [2]}]') == 3  # brackets inside strings do not count
    assert loads_json('[[1], {"a": 2}]', "x") == [[1], {"a": 2}]
    loads_json("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH, "x")  # the limit itself is fine
    with pytest.raises(ValidationError, match="nested 65 deep"):
        loads_json("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1), "x")
    with pytest.raises(ValidationError, match="^choices is nested 100000 deep, over the limit of 64$"):
        loads_json("[" * 100_000 + "]" * 100_000, "choices")  # json.loads: RecursionError
    assert json_list_items(' [ {"a": [1, 2]}, "x,]", 3 ] ') == [' {"a": [1, 2]}', ' "x,]"', " 3 "]
    assert json_list_items("[]") == [] and json_list_items("[1] x") is None and json_list_items("{}") is None
