"""The reworded split: held-out questions and restyled choices, the truth unchanged."""

from __future__ import annotations

import pytest

from audiorouter.data.synth import family_names, get_family, make_item, resolve_families
from audiorouter.data.synth.music import Interval
from audiorouter.data.synth.reworded import QUESTIONS, SUFFIX, restyle_choice, reword


def every_template(family: str) -> set[str]:
    cls = get_family(family)
    texts = set(cls.templates)
    if isinstance(cls, Interval):
        texts |= set(cls.DIRECTION_TEMPLATES) | set(cls.SIZE_TEMPLATES)
    return {t.lower() for t in texts}


def test_every_family_has_five_held_out_questions_per_sense():
    assert set(QUESTIONS) == set(family_names())
    for family, senses in QUESTIONS.items():
        for questions in senses.values():
            assert len(set(questions)) >= 5
            assert not {q.lower() for q in questions} & every_template(family), family


@pytest.mark.parametrize("family", resolve_families())
def test_reworded_items_keep_the_truth_and_change_the_surface(family):
    for index in range(24):  # every level, both interval senses, many choice sets
        item = make_item(family, index, seed=5)
        new = reword(item, seed=5)
        assert new.id == item.id + SUFFIX and new.audio == item.audio and new.meta["reworded_from"] == item.id
        assert new.question.lower() not in every_template(family) and "{" not in new.question
        assert new.answer in new.choices and len(new.choices) == len(item.choices)
        assert sorted(new.choices) == sorted(restyle_choice(family, c) for c in item.choices)
        assert new.choices != [restyle_choice(family, c) for c in item.choices]  # another order
        assert not set(new.choices) & set(item.choices)  # every choice restyled
        assert reword(item, seed=5) == new  # deterministic


def test_restyled_choices_read_as_intended():
    assert restyle_choice("tempo", "120 BPM") == "120 beats per minute"
    assert restyle_choice("note_name", "G#4") == "G-sharp, octave 4"
    assert restyle_choice("interval", "minor second (1 semitone)") == "1 semitone, a minor second"
    assert restyle_choice("event_count", "7") == "seven"
    assert restyle_choice("gap_position", "1.2 s") == "at 1.2 seconds"
    assert restyle_choice("loudness_compare", "the second sound") == "the later one"
    with pytest.raises(ValueError, match="no reworded style"):
        restyle_choice("tempo", "fast")
