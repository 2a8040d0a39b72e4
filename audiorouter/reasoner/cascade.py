"""The ``cascade`` back-end: a text-only causal LM that hears the audio through a fixed
coarse description and reads the evidence.

The description (``describe_audio``) is the same for every question about a clip and
deliberately coarse: duration, average and peak level, and whether the sound is
mostly tonal or noisy. Anything finer must come from the evidence block. Any
transformers causal LM works (``reasoner.model``: path, hub id, .gguf file, or a
packaged preset, reasoner/packaged.py: ``qwen2.5-coder-1.5b``, the smallest packaged
model measured to use evidence, ``qwen2.5-coder-0.5b``, or ``smollm2``, which cannot).

Answering (``reasoner.answer_mode``): "score" reads, deterministically, the log-probability
of each choice's letter right after the prompt (``score_target: letter``, one forward per
prompt) or the mean per-token log-likelihood of each choice's text (``text``) or of its
letter and text ("B. 65 BPM", ``letter_text``); ``calibration: content_free`` subtracts
each choice's score under the prompt with its content replaced by "N/A" (the model's
prior for that letter or text; Qwen2.5 prefers A and B without evidence). The spans
prompts share (the system turn and a clip's description, leading evidence lines) are
computed once (``reuse_prefix``, see scoring.py). "generate" decodes greedily and parses
the answer (prompting.parse_answer).
"""

from __future__ import annotations

import logging

import numpy as np

from audiorouter.config import ReasonerConfig
from audiorouter.contracts import ReasonerRequest
from audiorouter.reasoner.base import Answer
from audiorouter.reasoner.loading import load_causal_lm
from audiorouter.reasoner.model_backend import ModelReasoner
from audiorouter.reasoner.prompting import (
    CONTENT_FREE,
    SYSTEM_PROMPT,
    chat_prompt,
    parse_answer,
    user_message,
)
from audiorouter.reasoner.registry import register_reasoner
from audiorouter.reasoner.scoring import generate_texts

log = logging.getLogger(__name__)


def describe_audio(waveform: np.ndarray, sample_rate: int) -> str:
    """The fixed coarse description through which the cascade's LM hears a clip."""
    duration = waveform.size / sample_rate
    rms = float(np.sqrt(np.mean(np.square(waveform, dtype=np.float64))))
    peak = float(np.max(np.abs(waveform)))
    rms_db = 20 * np.log10(max(rms, 1e-10))
    peak_db = 20 * np.log10(max(peak, 1e-10))
    level = "silent" if rms_db < -60 else "quiet" if rms_db < -35 else "moderate" if rms_db < -18 else "loud"
    return (
        f"Audio clip: {duration:.1f} s long, {level} (average level {rms_db:.0f} dBFS, "
        f"peak {peak_db:.0f} dBFS), {tonality(waveform, sample_rate)}."
    )


def tonality(waveform: np.ndarray, sample_rate: int, frame: int = 2048) -> str:
    """The clip's character from the median spectral flatness of its frames:
    "mostly tonal", "mostly noisy" or "without clear content" (silence)."""
    hop = max(frame, waveform.size // 64)  # at most ~64 frames: the description stays cheap
    frames = [waveform[i : i + frame] for i in range(0, max(waveform.size - frame, 0) + 1, hop)]
    frames = [f for f in frames if f.size == frame and np.any(f)]
    if not frames:
        return "without clear content"
    spectra = np.abs(np.fft.rfft(np.stack(frames) * np.hanning(frame), axis=1)) + 1e-12
    flatness = np.exp(np.mean(np.log(spectra), axis=1)) / np.mean(spectra, axis=1)
    return "mostly tonal" if float(np.median(flatness)) < 0.2 else "mostly noisy"


@register_reasoner
class CascadeReasoner(ModelReasoner):
    name = "cascade"
    version = "1"

    def __init__(self, config: ReasonerConfig) -> None:
        super().__init__(config)
        model, tokenizer = load_causal_lm(config.model, self.dtype, self.device)
        self.attach(model, tokenizer, int(getattr(model.config, "max_position_embeddings", 2048)))
        self.prior_cache: dict[tuple, list[float]] = {}  # content-free scores, see content_free_priors
        self.content_free_prompts: dict[int, list[int]] = {}  # tokens by number of choices

    def prompt_for(self, request: ReasonerRequest, evidence_text: str) -> str:
        audio_part = describe_audio(request.waveform, request.sample_rate)
        user = user_message(request.question, request.choices, evidence_text, audio_part, self.config.score_target)
        return chat_prompt(self.tokenizer, SYSTEM_PROMPT, user)

    def answer_valid(self, requests: list[ReasonerRequest], evidence_texts: list[str]) -> list[Answer]:
        prompts = [self.prompt_for(r, e) for r, e in zip(requests, evidence_texts, strict=True)]
        token_lists = [self.tokenizer.encode(p, add_special_tokens=False) for p in prompts]
        answers: list[Answer | None] = [None] * len(requests)
        runnable = []
        for i, (request, tokens) in enumerate(zip(requests, token_lists, strict=True)):
            problem = self.too_long(request, len(tokens))
            if problem:
                answers[i] = Answer(-1, [], prompts[i], error=problem)
            else:
                runnable.append(i)
        if runnable:
            pick = [requests[i] for i in runnable]
            done = (self.generate if self.config.answer_mode == "generate" else self.score)(
                pick, [prompts[i] for i in runnable], [token_lists[i] for i in runnable]
            )
            for i, answer in zip(runnable, done, strict=True):
                answers[i] = answer
        return [a for a in answers if a is not None]

    def score(self, requests: list[ReasonerRequest], prompts: list[str], token_lists: list[list[int]]) -> list[Answer]:
        rows, owner = self.scoring_rows(requests, lambda i, span: (token_lists[i] + span, None))
        priors = self.content_free_priors(requests) if self.config.calibration == "content_free" else None
        return self.scored_answers(rows, owner, prompts, priors)

    def content_free_priors(self, requests: list[ReasonerRequest]) -> list[list[float]]:
        """Per request, each choice's score under the content-free prompt: the same layout
        with the audio, question and choices replaced by "N/A" and no evidence, so what is
        left is the model's prior for each letter (or choice text). Rows are scored once
        per process and kept (they depend only on the number of choices and the texts)."""
        rows, owner = [], []
        for i, request in enumerate(requests):
            tokens = self.content_free_tokens(len(request.choices))
            request_rows, _ = self.scoring_rows([request], lambda _, span, tokens=tokens: (tokens + span, None))
            rows += request_rows
            owner += [i] * len(request_rows)
        keys = [(tuple(row.tokens), tuple(row.letter_ids or ())) for row in rows]
        todo = {key: row for key, row in zip(keys, rows, strict=True) if key not in self.prior_cache}
        if todo:
            scored = self.scorer.score(list(todo.values()), self.config.batch_size, self.config.reuse_prefix)
            self.prior_cache.update(zip(todo, scored, strict=True))
        priors: list[list[float]] = [[] for _ in requests]
        for i, key in zip(owner, keys, strict=True):
            priors[i].extend(self.prior_cache[key])
        return priors

    def content_free_tokens(self, n_choices: int) -> list[int]:
        """The content-free prompt for ``n_choices`` choices, tokenised (once per count)."""
        if n_choices not in self.content_free_prompts:
            user = user_message(CONTENT_FREE, [CONTENT_FREE] * n_choices, "", CONTENT_FREE, self.config.score_target)
            self.content_free_prompts[n_choices] = self.tokenizer.encode(
                chat_prompt(self.tokenizer, SYSTEM_PROMPT, user), add_special_tokens=False)
        return self.content_free_prompts[n_choices]

    def generate(self, requests: list[ReasonerRequest], prompts: list[str], token_lists: list[list[int]]) -> list[Answer]:
        texts = generate_texts(self.model, self.tokenizer, token_lists, self.config.max_new_tokens, self.config.batch_size)
        answers = []
        for request, prompt, text in zip(requests, prompts, texts, strict=True):
            chosen = parse_answer(text, request.choices)
            scores = [1.0 if i == chosen else 0.0 for i in range(len(request.choices))]
            answers.append(Answer(-1 if chosen is None else chosen, scores, prompt, generated=text))
        return answers
