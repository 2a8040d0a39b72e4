"""Prompt text shared by the model back-ends, and the parser for generated answers.

The user message gives what the model hears, then the tool evidence (its lines sorted
by tool), then the question, its choices and the instruction::

    <audio note or audio placeholder>
    Tool evidence:
    - pitch: median pitch G4 (392.0 Hz)
    Question: Which note is played?
    Choices:
    A. C4
    B. G4
    Answer with the letter of the correct choice.

Evidence before the question is what Qwen2.5-Coder-1.5B can use: with the evidence
after the choices it answered 0.50 of 20 note-name and tempo questions right from the
matching tool's line, with it first 0.90 (validation split). Variants of one question
still share the audio part, and variants with the same leading tool lines share those
(scoring.py computes shared spans once); the question block is computed per variant.
"""

from __future__ import annotations

import re
import string

LETTERS = string.ascii_uppercase  # choice labels; a question has at most 26 choices
PROMPT_VERSION = "3"  # bump whenever the text below changes: memo keys depend on it
SYSTEM_PROMPT = "You answer multiple-choice questions about an audio clip."
INSTRUCTIONS = {  # by score target: what the answer the model is asked for looks like
    "letter": "Answer with the letter of the correct choice.",
    "text": "Answer with the text of the correct choice.",
    "letter_text": "Answer with the letter of the correct choice.",  # scored on "B. <text>", its usual reply
}
CONTENT_FREE = "N/A"  # stands for the audio, question and choices in a calibration prompt


def question_block(question: str, choices: list[str]) -> str:
    lines = [f"Question: {question.strip()}", "Choices:"]
    lines += [f"{LETTERS[i]}. {choice}" for i, choice in enumerate(choices)]
    return "\n".join(lines)


def user_message(question: str, choices: list[str], evidence_text: str, audio_part: str, target: str = "letter") -> str:
    """The user turn: audio part, evidence (if any), question and choices, instruction."""
    parts = [audio_part] if audio_part else []
    if evidence_text:
        parts.append(evidence_text)
    parts += [question_block(question, choices), INSTRUCTIONS[target]]
    return "\n".join(parts)


def chatml(system: str, user: str) -> str:
    """The ChatML conversation (Qwen's format) ending where the assistant speaks."""
    return (
        f"<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def chat_prompt(tokenizer, system: str, user: str) -> str:
    """The model's own chat template when it has one, ChatML otherwise."""
    if getattr(tokenizer, "chat_template", None):
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return chatml(system, user)


# ------------------------------------------------------------------- answer parsing

_ANSWER_IS = re.compile(
    r"(?i:answer|choice|option)\s*(?i:is|:|=)?\s*(?i:option\s*|choice\s*)?[\(\[]?([A-Z])(?![A-Za-z])"
)
_LEADING_LETTER = re.compile(r"^[\s*\"'`]*[\(\[]?([A-Z])(?:[\)\]\.:,*]|\s|$)")
_BRACKETED = re.compile(r"[\(\[]([A-Z])[\)\]]")


def parse_answer(text: str, choices: list[str]) -> int | None:
    """The choice a generated answer names, or None when it names none (or several).

    In order: a letter after "answer/choice/option (is)", a letter opening the text
    ("B", "(B)", "B. ..."), a single bracketed letter anywhere, then the one choice
    whose text appears in the answer (the longest when one contains another).
    """
    valid = LETTERS[: len(choices)]
    for pattern in (_ANSWER_IS, _LEADING_LETTER):
        match = pattern.search(text)
        if match and match.group(1) in valid:  # capital letters only: "a" is an article
            return valid.index(match.group(1))
    bracketed = {m.group(1) for m in _BRACKETED.finditer(text) if m.group(1) in valid}
    if len(bracketed) == 1:
        return valid.index(bracketed.pop())
    return _choice_text_in(text, choices)


def _choice_text_in(text: str, choices: list[str]) -> int | None:
    lowered = text.lower()
    found = [i for i, c in enumerate(choices) if c.strip() and _contains_phrase(lowered, c.strip().lower())]
    if not found:
        return None
    found = [i for i in found if not any(i != j and choices[i].lower() in choices[j].lower() for j in found)]
    return found[0] if len(found) == 1 else None


def _contains_phrase(text: str, phrase: str) -> bool:
    return re.search(r"(?<![\w.])" + re.escape(phrase) + r"(?![\w])", text) is not None
