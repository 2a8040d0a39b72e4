"""What the transformers back-ends (cascade, lalm) share: device and dtype, the choice
scorer, the letter tokens, and the identity that keys their memo entries."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from audiorouter.config import ReasonerConfig
from audiorouter.contracts import ReasonerRequest
from audiorouter.reasoner.base import Answer, Reasoner
from audiorouter.reasoner.loading import resolve_device, resolve_dtype
from audiorouter.reasoner.packaged import PACKAGED_MODELS
from audiorouter.reasoner.prompting import LETTERS, PROMPT_VERSION
from audiorouter.reasoner.scoring import LMScorer, ScoringRow


def resolve_answering(config: ReasonerConfig) -> ReasonerConfig:
    """``config`` with ``score_target``/``calibration`` "auto" replaced: a packaged
    model's measured best, otherwise letter scoring without calibration."""
    preset = PACKAGED_MODELS.get(config.model)
    target = config.score_target if config.score_target != "auto" else preset.score_target if preset else "letter"
    calibration = config.calibration if config.calibration != "auto" else preset.calibration if preset else "none"
    return replace(config, score_target=target, calibration=calibration)


class ModelReasoner(Reasoner):
    """Base of back-ends that answer with a transformers model and its tokenizer."""

    def __init__(self, config: ReasonerConfig) -> None:
        super().__init__(resolve_answering(config))
        if config.threads:
            torch.set_num_threads(config.threads)
        self.device = resolve_device(config.device)
        self.dtype = resolve_dtype(config.dtype, self.device)

    def attach(self, model, tokenizer, default_context: int) -> None:
        """Use ``model``/``tokenizer``: the scorer, letter ids and context length."""
        self.model, self.tokenizer = model, tokenizer
        pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        self.scorer = LMScorer(model, pad_id)
        self.letter_ids = [tokenizer.encode(letter, add_special_tokens=False)[0] for letter in LETTERS]
        self.context = self.config.max_prompt_tokens or default_context

    def extra_tokens(self, request: ReasonerRequest) -> int:
        """Tokens beyond the prompt: the longest choice text, or the generated answer."""
        if self.config.answer_mode == "generate":
            return self.config.max_new_tokens
        if self.config.score_target != "letter":
            return max(len(span) for span in self.choice_spans(request))
        return 0

    def choice_spans(self, request: ReasonerRequest) -> list[list[int]]:
        """Text targets: per choice, the tokens whose mean log-prob is its score: the
        choice's text ("text") or its letter and text ("letter_text": "B. 65 BPM")."""
        if self.config.score_target == "text":
            texts = request.choices
        else:
            texts = [f"{LETTERS[i]}. {choice}" for i, choice in enumerate(request.choices)]
        return [self.tokenizer.encode(text, add_special_tokens=False) for text in texts]

    def too_long(self, request: ReasonerRequest, prompt_tokens: int) -> str | None:
        """Why a prompt of ``prompt_tokens`` cannot be answered within the context, or None."""
        needed = prompt_tokens + self.extra_tokens(request)
        return f"prompt too long: {needed} tokens, the limit is {self.context}" if needed > self.context else None

    def scoring_rows(self, requests: list[ReasonerRequest], row_inputs) -> tuple[list[ScoringRow], list[int]]:
        """Score-mode rows of ``requests`` and, per row, the request it belongs to: one row
        per request (letter target) or per choice (text target, the choice's tokens
        appended). ``row_inputs(i, tokens)`` gives (plan keys, embeddings or None)."""
        rows, owner = [], []
        letter = self.config.score_target == "letter"
        for i, request in enumerate(requests):
            spans = [[]] if letter else self.choice_spans(request)
            for span in spans:
                keys, embeds = row_inputs(i, span)
                rows.append(ScoringRow(keys, self.letter_ids[: len(request.choices)] if letter else None, len(span),
                                       embeds))
                owner.append(i)
        return rows, owner

    def scored_answers(self, rows: list[ScoringRow], owner: list[int], prompts: list[str],
                       priors: list[list[float]] | None = None) -> list[Answer]:
        """Score ``rows`` (shared spans when ``reuse_prefix``) and pick each request's best
        choice, after subtracting its choices' ``priors`` when given (calibration)."""
        per_request: list[list[float]] = [[] for _ in prompts]
        for i, scores in zip(owner, self.scorer.score(rows, self.config.batch_size, self.config.reuse_prefix),
                             strict=True):
            per_request[i].extend(scores)
        if priors is not None:
            per_request = [[s - p for s, p in zip(scores, prior, strict=True)]
                           for scores, prior in zip(per_request, priors, strict=True)]
        return [Answer(int(np.argmax(s)), s, p) for s, p in zip(per_request, prompts, strict=True)]

    def identity(self) -> str:
        c = self.config
        mode = f"{c.answer_mode}-{c.score_target}" if c.answer_mode == "score" else f"generate{c.max_new_tokens}"
        if c.answer_mode == "score" and c.calibration != "none":
            mode += f"-{c.calibration}"
        return f"{c.model}|{mode}|{str(self.dtype).removeprefix('torch.')}|prompt{PROMPT_VERSION}"
