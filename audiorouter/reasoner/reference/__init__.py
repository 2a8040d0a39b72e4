"""The ``reference`` reasoner: a deterministic, transparent stand-in for a frozen LALM
(its rules: ``ReferenceReasoner``). Its numbers are always reported as "reference
reasoner". Imports the reasoner's ``base`` and ``registry`` and ``contracts``.
"""

from __future__ import annotations

import hashlib
from collections import Counter, OrderedDict

import numpy as np

from audiorouter.contracts import ReasonerRequest
from audiorouter.reasoner.base import Answer, Reasoner
from audiorouter.reasoner.reference.hearing import hearing_scores, perceive
from audiorouter.reasoner.reference.questions import Question, nearest_choice, parse_question
from audiorouter.reasoner.reference.reading import evidence_lines, read_value
from audiorouter.reasoner.registry import register_reasoner

VOTE_WEIGHT = 10.0
PERCEPT_CACHE_SIZE = 4096


def supported_choices(question: Question, evidence_text: str) -> Counter:
    """How many evidence lines support each choice index."""
    votes: Counter = Counter()
    for _tool, summary in evidence_lines(evidence_text):
        value = read_value(question, summary)
        if value is None:
            continue
        choice = nearest_choice(question, value)
        if choice is not None:
            votes[choice] += 1
    return votes


def decide(hearing: list[float], votes: Counter) -> tuple[int, list[float]]:
    """Rule 4: most-supported choice; ties (and no support) resolved by hearing."""
    scores = [h + VOTE_WEIGHT * votes.get(i, 0) for i, h in enumerate(hearing)]
    return int(np.argmax(scores)), scores


@register_reasoner
class ReferenceReasoner(Reasoner):
    """No capable audio-language model runs offline on this machine, so the embedded default
    reasoner is a small program whose every rule is written here. Its numbers are always
    reported as "reference reasoner", never as an LALM's.

    Rules, in the order it applies them:

    1. **Understand the question** (questions.py): the kind of quantity asked (note,
       interval, direction, sweep, chord, tempo, duration, moment, count, louder, brighter)
       is read from the choices and the question text, never from labels or metadata.
       Anything else is "unknown" and answered by a guess.
    2. **Hear** (hearing.py): one coarse measurement of the waveform for that kind plus a
       perceptual error of documented size (``hearing.EARS``), seeded by the clip and the
       question, so the same input always gives the same answer. Each choice gets a hearing
       score (closer to the percept is better).
    3. **Read the evidence** (reading.py): the rendered evidence block, as text, exactly as
       a language model receives it. Each ``- tool: summary`` line offers at most one
       value: the first match of the kind's (loose) patterns. A value supports the choice
       nearest to it if it is within the kind's tolerance (``questions.TOLERANCE``: 1
       semitone, 8 % of a tempo, 30 % of a duration, 0.4 s of a moment, 1 count); a value
       near no choice is inconclusive and ignored.
    4. **Decide**: no supported choice: answer by hearing. Otherwise the choice supported
       by the most lines wins. **Competing evidence** (lines supporting different choices
       equally often) leaves it undecided between them, and it falls back on its own
       hearing among the tied choices: this is how feeding every tool misleads it, because
       loose patterns let unrelated lines (a spectral centroid in Hz, a count of beats, a
       "brightest:" verdict) compete with the one line that answers the question.

    Scores: hearing score plus 10 per supporting line, so ``argmax(scores)`` is the answer.
    It answers thousands of requests per second: a clip's percept is computed once per
    question (cached by content) and reading evidence is a few regular expressions.
    """

    name = "reference"
    version = "1"

    def __init__(self, config) -> None:
        super().__init__(config)
        self._percepts: OrderedDict[str, float] = OrderedDict()

    def answer_valid(self, requests: list[ReasonerRequest], evidence_texts: list[str]) -> list[Answer]:
        return [self.answer_one(r, text) for r, text in zip(requests, evidence_texts, strict=True)]

    def answer_one(self, request: ReasonerRequest, evidence_text: str) -> Answer:
        question = parse_question(request.question, request.choices)
        hearing = hearing_scores(question, self.percept(request, question))
        chosen, scores = decide(hearing, supported_choices(question, evidence_text))
        prompt = f"{request.question}\nChoices: {' | '.join(request.choices)}"
        if evidence_text:
            prompt += "\n" + evidence_text
        return Answer(chosen_index=chosen, scores=scores, prompt=prompt)

    def percept(self, request: ReasonerRequest, question: Question) -> float:
        """Rule 2, cached by clip content and question text."""
        key = hashlib.sha256(
            np.ascontiguousarray(request.waveform, np.float32).tobytes()
            + request.question.encode()
            + "|".join(request.choices).encode()
        ).hexdigest()
        if key in self._percepts:
            self._percepts.move_to_end(key)
            return self._percepts[key]
        value = perceive(question, request.question, request.waveform, request.sample_rate)
        self._percepts[key] = value
        if len(self._percepts) > PERCEPT_CACHE_SIZE:
            self._percepts.popitem(last=False)
        return value
