"""The reasoner interface; back-ends register by name in ``registry``.

A back-end is one ``Reasoner`` subclass plus ``@register_reasoner``::

    @register_reasoner
    class Echo(Reasoner):
        name, version = "echo", "1"

        def answer_valid(self, requests, evidence_texts):
            return [Answer(chosen_index=0, scores=[1.0] + [0.0] * (len(r.choices) - 1),
                           prompt=r.question) for r in requests]

``Reasoner.answer(requests) -> outcomes`` is the one entry point, the same for every
back-end (and for the memo, the Ray actor and the Serve deployment around it): it
checks each request, renders its evidence with the one renderer (evidence.py), hands
the valid requests to ``answer_valid`` as one batch, and returns one outcome per
request, in order. A bad request becomes an outcome with ``error`` set; the rest of
the batch is still answered. ``reasoner_id`` names everything that changes answers
(back-end, its version, the model and settings) and keys the outcome memo.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import ClassVar

from audiorouter.config import ReasonerConfig
from audiorouter.contracts import ReasonerOutcome, ReasonerRequest, ToolResult
from audiorouter.reasoner.evidence import render_evidence
from audiorouter.reasoner.registry import get_reasoner
from audiorouter.validation import AudioError, ValidationError, check_request

log = logging.getLogger(__name__)


@dataclass
class Answer:
    """What a back-end says about one valid request (the base class adds the rest)."""

    chosen_index: int  # -1: failed, or a generated answer that named no choice
    scores: list[float]  # one per choice, higher is preferred
    prompt: str  # the prompt actually used
    generated: str = ""  # generation mode: the raw generated text
    error: str | None = None  # a per-request failure found by the back-end


class Reasoner:
    """Base class of every back-end: subclasses set ``name``/``version`` and implement
    ``answer_valid``; ``identity`` adds the settings that change answers to the id."""

    name: ClassVar[str]
    version: ClassVar[str] = "1"

    def __init__(self, config: ReasonerConfig) -> None:
        self.config = config

    @property
    def reasoner_id(self) -> str:
        """Stable name of this reasoner's behaviour, used in memo keys."""
        extra = self.identity()
        return f"{self.name}-v{self.version}" + (f"/{extra}" if extra else "")

    def identity(self) -> str:
        return ""

    def answer_valid(self, requests: list[ReasonerRequest], evidence_texts: list[str]) -> list[Answer]:
        """Answer checked requests; ``evidence_texts[i]`` is request i's rendered evidence."""
        raise NotImplementedError

    def answer(self, requests: list[ReasonerRequest]) -> list[ReasonerOutcome]:
        """One outcome per request, in order; bad requests get ``error``, never raise."""
        outcomes: list[ReasonerOutcome | None] = [None] * len(requests)
        valid: list[int] = []
        for i, request in enumerate(requests):
            problem = request_problem(request)
            if problem is None:
                valid.append(i)
            else:
                outcomes[i] = error_outcome(request, problem)
        if valid:
            batch = [requests[i] for i in valid]
            texts = [render_evidence(r.evidence, self.config.evidence_token_budget) for r in batch]
            start = time.perf_counter()
            try:
                answers = self.answer_valid(batch, texts)
            except Exception as exc:  # a failing model fails this batch's outcomes, not the caller
                log.exception("reasoner %s failed on a batch of %d", self.reasoner_id, len(batch))
                answers = [Answer(-1, [], "", error=f"reasoner failed: {type(exc).__name__}: {exc}") for _ in batch]
            per_request_ms = (time.perf_counter() - start) * 1000.0 / len(batch)
            for i, request, answer in zip(valid, batch, answers, strict=True):
                outcomes[i] = make_outcome(request, answer, per_request_ms)
        return [o for o in outcomes if o is not None]


def make_outcome(request: ReasonerRequest, answer: Answer, latency_ms: float) -> ReasonerOutcome:
    """The outcome of a valid request; ``latency_ms`` is its share of the batch time."""
    if answer.error is not None:
        return error_outcome(request, answer.error, answer.prompt, latency_ms)
    correct = None
    if request.answer is not None:
        correct = answer.chosen_index == request.choices.index(request.answer)
    return ReasonerOutcome(
        item_id=request.item_id,
        chosen_index=answer.chosen_index,
        scores=[float(s) for s in answer.scores],
        correct=correct,
        prompt=answer.prompt,
        latency_ms=latency_ms,
        generated=answer.generated,
    )


def error_outcome(request: ReasonerRequest, error: str, prompt: str = "", latency_ms: float = 0.0) -> ReasonerOutcome:
    n = len(request.choices) if isinstance(request.choices, list) else 0
    return ReasonerOutcome(
        item_id=str(request.item_id), chosen_index=-1, scores=[0.0] * n, correct=None,
        prompt=prompt, latency_ms=latency_ms, error=error,
    )


def request_problem(request: ReasonerRequest) -> str | None:
    """Why a request cannot be answered by any back-end, or None when it can: the one
    check of ``validation.check_request`` that the server and the importers run first
    (this is defence in depth), plus the evidence's type."""
    try:
        check_request(request.question, request.choices, request.answer, request.waveform, request.sample_rate)
    except AudioError as exc:
        return f"bad audio: {exc}"
    except ValidationError as exc:
        return f"bad request: {exc}"
    if not isinstance(request.evidence, list) or not all(isinstance(r, ToolResult) for r in request.evidence):
        return "bad request: evidence must be a list of ToolResult"
    return None


def build_backend(config: ReasonerConfig) -> Reasoner:
    """The configured back-end alone (no memo): ``build_reasoner`` is what callers use."""
    return get_reasoner(config.backend)(config)
