"""Every table names the reasoner behind its numbers, with how a model answered."""

from audiorouter.config import Config
from audiorouter.evaluation.evaluate import reasoner_label


def label(**reasoner) -> str:
    config = Config()
    for key, value in reasoner.items():
        setattr(config.reasoner, key, value)
    return reasoner_label(config.reasoner)


def test_reference_and_model_reasoners_are_named_with_their_answering():
    assert label() == "reference reasoner"
    assert label(backend="cascade", model="/models/qwen", score_target="text") == \
        "cascade reasoner (/models/qwen, text scoring)"
    assert label(backend="cascade", model="m", calibration="content_free") == \
        "cascade reasoner (m, letter scoring, content-free calibration)"
    assert label(backend="cascade", model="m", answer_mode="generate") == "cascade reasoner (m, generated answers)"
