"""The reasoner back-ends with a LoRA adapter on their text model, for ``internalise-lalm``.

    reasoner = adapted_reasoner(config.reasoner, AdapterConfig(), seed=0)   # lalm or cascade
    reasoner = adapted_reasoner(config.reasoner, saved="trial/adapter")     # a saved adapter

Both keep the back-end's own prompt and scoring (``answer``), so an adapted reasoner is
scored exactly as the frozen one, adapter active. What each adds for training
(``lora.fit_reasoner_adapter``): ``training_example`` (the no-evidence prompt's tokens and
the tokens it is taught) and ``hidden_states`` (the text model's last hidden states of a
batch of such rows, left-padded, with gradients).

* ``lalm``: the adapter sits in the audio LM's text model (``model.model.language_model``);
  the audio encoder, which has its own q_proj/v_proj, stays frozen.
* ``cascade``: the adapter sits in the causal LM's decoder (``model.model``; the output
  head stays frozen). Its prompt hears the clip through the fixed coarse description
  (``reasoner.cascade.describe_audio``), so what fine-tuning can learn there is what the
  question, the choices and that description tell: the family's answer priors, not the
  perception. With ``calibration: content_free`` the priors it subtracts are recomputed
  after every change of the adapter (``forget_scores``).

``AdapterConfig`` is here because both the classes and the training read it.

Imports: config, contracts, reasoner, study.methods (the check of the reasoner).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from audiorouter.config import ReasonerConfig
from audiorouter.contracts import ReasonerRequest
from audiorouter.reasoner.cascade import CascadeReasoner
from audiorouter.reasoner.lalm import LalmReasoner, Prepared
from audiorouter.reasoner.scoring import pad_left
from audiorouter.study.methods.catalog import lora_reasoner_problem


@dataclass(frozen=True)
class AdapterConfig:
    rank: int = 8
    alpha: float = 16.0  # the update is scaled by alpha / rank
    dropout: float = 0.05
    # module names inside the text model; these two exist in Qwen2 (Qwen2-Audio's and the
    # cascade's Qwen2.5 models) and in Qwen2.5-Omni thinker's text model
    target_modules: tuple[str, ...] = ("q_proj", "v_proj")
    lr: float = 1e-4
    weight_decay: float = 0.0  # AdamW (decoupled)


def check_reasoner(config: ReasonerConfig) -> None:
    """A ValueError naming the setting when ``config`` is not a reasoner this method adapts."""
    problem = lora_reasoner_problem(config)
    if problem:
        raise ValueError(problem)


class LoraAdapted:
    """What an adapted back-end adds to its reasoner class (listed first among its bases)."""

    peft: Any  # peft.PeftModel around ``self.model`` (modified in place: scoring uses the adapter)

    def __init__(self, config: ReasonerConfig, adapter: AdapterConfig | None = None, seed: int = 0,
                 saved: str | Path | None = None) -> None:
        """The back-end (the next base class) with a new adapter from ``adapter`` and
        ``seed``, or the one saved in ``saved``."""
        check_reasoner(config)
        super().__init__(config)
        self.add_adapter(adapter, seed, saved)

    def add_adapter(self, adapter: AdapterConfig | None, seed: int, saved: str | Path | None) -> None:
        from peft import LoraConfig, PeftModel, get_peft_model

        if saved is not None:
            self.peft = PeftModel.from_pretrained(self.model, str(saved))
            return
        adapter = adapter or AdapterConfig()
        torch.manual_seed(seed)  # LoRA's A matrices start random (B at zero: the start is the frozen model)
        lora = LoraConfig(r=adapter.rank, lora_alpha=adapter.alpha, lora_dropout=adapter.dropout,
                          target_modules=self.text_modules(adapter.target_modules))
        self.peft = get_peft_model(self.model, lora)

    def text_model(self) -> torch.nn.Module:
        raise NotImplementedError

    def training_example(self, request: ReasonerRequest) -> tuple[list[int], object, list[int]]:
        """(prompt tokens, what ``hidden_states`` needs besides them, taught tokens)."""
        raise NotImplementedError

    def hidden_states(self, token_lists: list[list[int]], contexts: Sequence[object]) -> torch.Tensor:
        raise NotImplementedError

    def forget_scores(self) -> None:
        """Drop anything the back-end keeps that the adapter's weights decide."""

    def text_modules(self, names: Sequence[str]) -> list[str]:
        """Full names of the text model's linear layers called one of ``names``."""
        text = self.text_model()
        prefix = next(name for name, module in self.model.named_modules() if module is text)
        found = [f"{prefix}.{name}" for name, module in text.named_modules()
                 if isinstance(module, torch.nn.Linear) and name.rsplit(".", 1)[-1] in names]
        if not found:
            raise ValueError(f"no linear layer named {', '.join(names)} in the text model ({prefix})")
        return found

    def adapter_dropout(self, on: bool) -> None:
        """The model in evaluation mode, but for the adapter's dropout when ``on``: the
        frozen parts always compute as the frozen reasoner does (no base dropout or layer drop)."""
        self.model.eval()
        for name, module in self.model.named_modules():
            if name.endswith("lora_dropout"):
                module.train(on)

    def adapter_weights(self) -> dict[str, torch.Tensor]:
        return {name: p for name, p in self.peft.named_parameters() if "lora_" in name}

    def identity(self) -> str:
        digest = hashlib.sha256()
        for name, weight in sorted(self.adapter_weights().items()):
            digest.update(name.encode())
            digest.update(weight.detach().float().cpu().numpy().tobytes())
        return f"{super().identity()}|lora-{digest.hexdigest()[:16]}"

    def taught_tokens(self, request: ReasonerRequest, answer_index: int) -> list[int]:
        """The form the back-end scores (``score_target``): the answer's letter, or its text."""
        if self.config.score_target == "letter":
            return [self.letter_ids[answer_index]]
        return self.choice_spans(request)[answer_index]


class AdaptedLalmReasoner(LoraAdapted, LalmReasoner):
    """The lalm back-end with an adapter. Not a registered back-end."""

    def text_model(self) -> torch.nn.Module:
        return self.model.model.language_model

    def training_example(self, request):
        prepared = self.prepare(request, "")  # "": the rendered evidence of a request without any
        if isinstance(prepared, str):
            raise ValueError(f"internalise-lalm: item {request.item_id}: {prepared}")
        return prepared.token_ids, prepared, self.taught_tokens(request, request.choices.index(request.answer))

    def hidden_states(self, token_lists, contexts: Sequence[Prepared]):
        return self.model.model(**self.model_inputs(token_lists, list(contexts))).last_hidden_state


class AdaptedCascadeReasoner(LoraAdapted, CascadeReasoner):
    """The cascade back-end with an adapter. Not a registered back-end."""

    def text_model(self) -> torch.nn.Module:
        return self.model.model

    def training_example(self, request):
        tokens = self.tokenizer.encode(self.prompt_for(request, ""), add_special_tokens=False)
        problem = self.too_long(request, len(tokens))
        if problem:
            raise ValueError(f"internalise-lalm: item {request.item_id}: {problem}")
        return tokens, None, self.taught_tokens(request, request.choices.index(request.answer))

    def hidden_states(self, token_lists, contexts):
        ids, mask = pad_left(token_lists, self.scorer.pad_id, self.device)
        return self.model.model(input_ids=ids, attention_mask=mask).last_hidden_state

    def forget_scores(self) -> None:
        self.prior_cache.clear()  # content-free priors were scored with other adapter weights


ADAPTED = {"lalm": AdaptedLalmReasoner, "cascade": AdaptedCascadeReasoner}


def adapted_reasoner(config: ReasonerConfig, adapter: AdapterConfig | None = None, seed: int = 0,
                     saved: str | Path | None = None) -> LoraAdapted:
    check_reasoner(config)
    return ADAPTED[config.backend](config, adapter, seed, saved)
