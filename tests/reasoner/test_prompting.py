import pytest

from audiorouter.reasoner.prompting import INSTRUCTIONS, parse_answer, user_message

CHOICES = ["dog", "cat", "hot dog", "bird"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("B", 1), (" (C) hot dog", 2), ("The answer is D.", 3), ("answer: B", 1), ("Answer: (A)", 0),
        ("The correct option is C", 2), ("Choice B. cat", 1), ("**B**", 1), ("I think it is a cat.", 1),
        ("hot dog", 2), ("a dog", 0), ("E", None), ("nothing here", None), ("dog or cat", None), ("", None),
    ],
)
def test_parse_answer(text, expected):
    assert parse_answer(text, CHOICES) == expected


def test_user_message_gives_the_evidence_before_the_question():
    message = user_message("Which note?", ["A4", "C5"], "Tool evidence:\n- pitch: A4", "Audio clip: 1 s")
    assert message.splitlines() == ["Audio clip: 1 s", "Tool evidence:", "- pitch: A4", "Question: Which note?",
                                    "Choices:", "A. A4", "B. C5", INSTRUCTIONS["letter"]]
    assert user_message("Which note?", ["A4"], "", "Audio clip: 1 s").splitlines()[1] == "Question: Which note?"
    assert user_message("Q?", ["x", "y"], "", "", "text").splitlines()[-1] == INSTRUCTIONS["text"]
