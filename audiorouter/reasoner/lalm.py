"""The ``lalm`` back-end: transformers audio-language models that hear the waveform.

Supported architectures (by the checkpoint's ``model_type``):

* ``qwen2_audio`` — Qwen2-Audio(-7B-Instruct), ``Qwen2AudioForConditionalGeneration``;
* ``qwen2_5_omni_thinker`` — Qwen2.5-Omni's thinker; a full ``qwen2_5_omni`` checkpoint is
  loaded without its talker and its thinker is used.

Inputs are built the way the models' processors build them for audio (their video
parts need torchvision, which this project does not install): the Whisper feature
extractor turns each waveform into a 30 s log-mel window (``padding="max_length"``,
with its attention mask), and the audio placeholder of the ChatML prompt is repeated
once per audio frame the encoder will produce (``((n_mel - 1) // 2 + 1 - 2) // 2 + 1``).
A test checks the result against ``Qwen2AudioProcessor``. Audio the feature extractor
rejects (wrong sample rate, ...) fails that request only.

bf16 on GPU, batched (left padding), the lm_head only at the answer position.
"score" mode reads each choice's letter after the prompt, or (``score_target: text``)
scores each choice's text, one sequence per choice; "generate" decodes greedily and
parses the answer.

Shared spans (``reuse_prefix``, score mode): the evidence variants of a question share
the system turn, the audio tokens and the question, so the rows go through the same
radix-tree scorer as ``cascade`` (scoring.py). The audio encoder runs once per distinct
clip; each row carries its input embeddings (token embeddings with that clip's audio
features at the audio positions), and its plan keys give each clip's audio positions
their own values, so different clips never share a span. The scorer's positions are
sequential; that is also what Qwen2.5-Omni's multimodal rotary index gives audio-only
prompts (all three axes advance together; only images and video differ), so both
architectures take this path, and a test checks each against the unshared one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import torch

from audiorouter.config import ConfigError, ReasonerConfig
from audiorouter.contracts import ReasonerRequest
from audiorouter.reasoner.base import Answer
from audiorouter.reasoner.loading import resolve_model
from audiorouter.reasoner.model_backend import ModelReasoner
from audiorouter.reasoner.prompting import chatml, parse_answer, user_message
from audiorouter.reasoner.registry import register_reasoner
from audiorouter.reasoner.scoring import pad_left

AUDIO_TOKEN = "<|AUDIO|>"
CLIP_KEY_STRIDE = 1 << 20  # plan keys of clip c's audio positions: -(1 + c * stride + n)


class _Captured(Exception):
    """Raised by a hook to stop a forward once the language model's inputs are known."""

    def __init__(self, inputs_embeds: torch.Tensor) -> None:
        super().__init__("captured")
        self.inputs_embeds = inputs_embeds


@dataclass(frozen=True)
class Architecture:
    system: str  # the system prompt the model was trained with
    audio_part: str  # how the user turn carries the audio


QWEN2_AUDIO = Architecture("You are a helpful assistant.", "Audio 1: <|audio_bos|><|AUDIO|><|audio_eos|>")
QWEN_OMNI = Architecture(
    "You are Qwen, a virtual human developed by the Qwen Team, Alibaba Group, capable of perceiving "
    "auditory and visual inputs, as well as generating text and speech.",
    "<|audio_bos|><|AUDIO|><|audio_eos|>",
)
ARCHITECTURES = {"qwen2_audio": QWEN2_AUDIO, "qwen2_5_omni_thinker": QWEN_OMNI, "qwen2_5_omni": QWEN_OMNI}


def audio_token_count(mel_frames: int) -> int:
    """Audio tokens the Qwen audio encoders emit for ``mel_frames`` valid mel frames."""
    return ((mel_frames - 1) // 2 + 1 - 2) // 2 + 1


def load_audio_lm(source: str, dtype: torch.dtype, device: torch.device):
    """(model, tokenizer, feature extractor, architecture) from a path or hub id."""
    import transformers
    from transformers import AutoConfig, AutoTokenizer, WhisperFeatureExtractor

    model_type = AutoConfig.from_pretrained(source).model_type
    if model_type not in ARCHITECTURES:
        raise ValueError(f"{source}: model type {model_type!r} is not an audio LM this back-end knows "
                         f"({', '.join(ARCHITECTURES)})")
    if model_type == "qwen2_audio":
        model = transformers.Qwen2AudioForConditionalGeneration.from_pretrained(source, dtype=dtype)
    elif model_type == "qwen2_5_omni":
        full = transformers.Qwen2_5OmniForConditionalGeneration.from_pretrained(
            source, dtype=dtype, enable_audio_output=False
        )
        model = full.thinker
    else:
        model = transformers.Qwen2_5OmniThinkerForConditionalGeneration.from_pretrained(source, dtype=dtype)
    tokenizer = AutoTokenizer.from_pretrained(source)
    features = WhisperFeatureExtractor.from_pretrained(source)
    return model.to(device).eval(), tokenizer, features, ARCHITECTURES[model_type]


@dataclass
class Prepared:
    """One request turned into model inputs."""

    prompt: str
    token_ids: list[int]
    features: np.ndarray  # (n_mels, frames)
    feature_mask: np.ndarray  # (frames,)


@register_reasoner
class LalmReasoner(ModelReasoner):
    name = "lalm"
    version = "1"

    def __init__(self, config: ReasonerConfig) -> None:
        super().__init__(config)
        if self.config.calibration != "none":
            raise ConfigError("reasoner.calibration=content_free is implemented for the cascade back-end only "
                              "(an audio LM's content-free prompt would need a content-free clip)")
        model, tokenizer, self.features, self.architecture = load_audio_lm(
            resolve_model(config.model), self.dtype, self.device
        )
        text_config = model.config.get_text_config()
        self.attach(model, tokenizer, int(getattr(text_config, "max_position_embeddings", 32768)))

    def prepare(self, request: ReasonerRequest, evidence_text: str) -> Prepared | str:
        """Model inputs for one request, or why it cannot be answered."""
        user = user_message(
            request.question, request.choices, evidence_text, self.architecture.audio_part, self.config.score_target
        )
        prompt = chatml(self.architecture.system, user)
        try:
            extracted = self.features(
                request.waveform, sampling_rate=request.sample_rate, padding="max_length",
                return_attention_mask=True, return_tensors="np",
            )
        except Exception as exc:  # the extractor raises ValueError/TypeError for unusable audio
            return f"audio rejected by the processor: {type(exc).__name__}: {exc}"
        mask = extracted["attention_mask"][0]
        expanded = prompt.replace(AUDIO_TOKEN, AUDIO_TOKEN * audio_token_count(int(mask.sum())))
        token_ids = self.tokenizer.encode(expanded, add_special_tokens=False)
        problem = self.too_long(request, len(token_ids))
        if problem:
            return problem
        return Prepared(prompt, token_ids, extracted["input_features"][0], mask)

    def answer_valid(self, requests: list[ReasonerRequest], evidence_texts: list[str]) -> list[Answer]:
        prepared = [self.prepare(r, e) for r, e in zip(requests, evidence_texts, strict=True)]
        answers: list[Answer | None] = [None if isinstance(p, Prepared) else Answer(-1, [], "", error=p) for p in prepared]
        ready = [i for i, p in enumerate(prepared) if isinstance(p, Prepared)]
        if ready and self.shares_prefixes():  # one plan over the whole call: variants share spans
            done = self.score_shared([requests[i] for i in ready], [prepared[i] for i in ready])
            for i, answer in zip(ready, done, strict=True):
                answers[i] = answer
            return [a for a in answers if a is not None]
        step = self.config.batch_size
        for start in range(0, len(ready), step):
            chunk = ready[start : start + step]
            run = self.generate if self.config.answer_mode == "generate" else self.score
            for i, answer in zip(chunk, run([requests[i] for i in chunk], [prepared[i] for i in chunk]), strict=True):
                answers[i] = answer
        return [a for a in answers if a is not None]

    def shares_prefixes(self) -> bool:
        return self.config.reuse_prefix and self.config.answer_mode == "score"

    def score_shared(self, requests: list[ReasonerRequest], items: list[Prepared]) -> list[Answer]:
        """Score mode through the shared-span scorer (see the module docstring)."""
        clip_of = clip_indices(requests)
        first = {}
        for i, clip in enumerate(clip_of):
            first.setdefault(clip, i)
        audio = self.audio_features([items[i] for i in first.values()])
        audio_of = dict(zip(first, audio, strict=True))
        audio_id = self.model.config.audio_token_id

        def row_inputs(i: int, span: list[int]):
            return self.row_inputs(items[i].token_ids + span, audio_of[clip_of[i]], clip_of[i], audio_id)

        rows, owner = self.scoring_rows(requests, row_inputs)
        return self.scored_answers(rows, owner, [p.prompt for p in items])

    @torch.inference_mode()
    def row_inputs(self, ids: list[int], audio: torch.Tensor, clip: int, audio_id: int):
        """(plan keys, input embeddings) of one row: ``audio`` fills its audio positions."""
        where = [j for j, t in enumerate(ids) if t == audio_id]
        if len(where) != audio.shape[0]:
            raise ValueError(f"{len(where)} audio tokens in the prompt, {audio.shape[0]} audio features")
        embeds = self.model.get_input_embeddings()(torch.tensor(ids, device=self.device))
        embeds[where] = audio.to(embeds.dtype)
        keys = list(ids)
        for n, j in enumerate(where):
            keys[j] = -(1 + clip * CLIP_KEY_STRIDE + n)
        return keys, embeds

    @torch.inference_mode()
    def audio_features(self, items: list[Prepared]) -> list[torch.Tensor]:
        """Per item, the projected audio features the model puts at its audio positions
        (n_audio, hidden), taken from the model's own merge by stopping the forward there."""
        audio_id = self.model.config.audio_token_id
        out: list[torch.Tensor] = []
        for start in range(0, len(items), self.config.batch_size):
            chunk = items[start : start + self.config.batch_size]
            inputs = self.model_inputs([p.token_ids for p in chunk], chunk)

            def capture(module, args, kwargs):
                raise _Captured(kwargs["inputs_embeds"])

            hook = self.model.model.language_model.register_forward_pre_hook(capture, with_kwargs=True)
            try:
                self.model.model(**inputs)
                raise RuntimeError("the language model was never called")
            except _Captured as captured:
                embeds = captured.inputs_embeds
            finally:
                hook.remove()
            out += [embeds[b][inputs["input_ids"][b] == audio_id] for b in range(len(chunk))]
        return out

    def model_inputs(self, token_lists: list[list[int]], items: list[Prepared]) -> dict[str, torch.Tensor]:
        ids, mask = pad_left(token_lists, self.scorer.pad_id, self.device)
        features = torch.from_numpy(np.stack([p.features for p in items])).to(self.device, self.dtype)
        feature_mask = torch.from_numpy(np.stack([p.feature_mask for p in items])).to(self.device)
        return {"input_ids": ids, "attention_mask": mask, "input_features": features, "feature_attention_mask": feature_mask}

    @torch.inference_mode()
    def score(self, requests: list[ReasonerRequest], items: list[Prepared]) -> list[Answer]:
        if self.config.score_target == "letter":
            hidden = self.model.model(**self.model_inputs([p.token_ids for p in items], items)).last_hidden_state
            logprobs = self.scorer.logprobs(hidden[:, -1])
            scores = [logprobs[i, self.letter_ids[: len(r.choices)]].tolist() for i, r in enumerate(requests)]
        else:
            scores = [self.score_choice_texts(r, p) for r, p in zip(requests, items, strict=True)]
        return [Answer(int(np.argmax(s)), s, p.prompt) for s, p in zip(scores, items, strict=True)]

    def score_choice_texts(self, request: ReasonerRequest, item: Prepared) -> list[float]:
        """Mean log-likelihood of each choice's span after the prompt (one row per choice)."""
        spans = self.choice_spans(request)
        inputs = self.model_inputs([item.token_ids + s for s in spans], [item] * len(spans))
        hidden = self.model.model(**inputs).last_hidden_state
        width = hidden.shape[1]
        scores = []
        for row, span in enumerate(spans):
            where = torch.arange(width - len(span) - 1, width - 1, device=hidden.device)
            targets = torch.tensor(span, device=hidden.device)
            scores.append(self.scorer.logprobs(hidden[row, where]).gather(1, targets[:, None]).mean().item())
        return scores

    @torch.inference_mode()
    def generate(self, requests: list[ReasonerRequest], items: list[Prepared]) -> list[Answer]:
        inputs = self.model_inputs([p.token_ids for p in items], items)
        out = self.model.generate(
            **inputs, max_new_tokens=self.config.max_new_tokens, do_sample=False,
            pad_token_id=self.scorer.pad_id, eos_token_id=self.tokenizer.eos_token_id,
        )
        texts = self.tokenizer.batch_decode(out[:, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
        answers = []
        for request, item, text in zip(requests, items, texts, strict=True):
            chosen = parse_answer(text, request.choices)
            scores = [1.0 if i == chosen else 0.0 for i in range(len(request.choices))]
            answers.append(Answer(-1 if chosen is None else chosen, scores, item.prompt, generated=text))
        return answers


def clip_indices(requests: list[ReasonerRequest]) -> list[int]:
    """Per request, the index of its clip among the distinct clips (by content)."""
    seen: dict[bytes, int] = {}
    out = []
    for request in requests:
        digest = hashlib.sha1(np.ascontiguousarray(request.waveform).tobytes())
        digest.update(str(request.sample_rate).encode())
        out.append(seen.setdefault(digest.digest(), len(seen)))
    return out
