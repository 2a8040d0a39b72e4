"""The LM router (``router.backend: lm``): a causal LM that reads the question as words.

Its policy over the allowed subsets is a softmax of each subset's reply log-probability
(lm_prompt.py, lm_scoring.py)::

    pi(s | x) = softmax_s( log p(subset_text(s) | prompt(x)) / router.lm_temperature )

or, with ``router.lm_score: mean``, the same with each reply's log-probability divided
by its token count (a summed score favours the shortest reply, "tools: none").

With ``router.rationale_tokens`` > 0 the LM first writes a short rationale and the
subsets are scored after it (lm_rationale.py); a decision's log-probability then
includes the rationale's.

The LM is frozen; a LoRA adapter (peft) is what training changes. A new adapter's output
matrices start at zero, so the untrained router is exactly the prompted LM: the
training-free "prompted routing" policy. Decisions are deterministic for a given item
(greedy: the most likely subset). A saved router is ``policy.json`` (backend, model,
actions, prompt settings) and ``adapter/`` (the adapter only; the LM is named, not copied).

    policy = LMRouterPolicy.build(config.router, ActionSpace(tools, "subsets", 2))
    decisions = policy.route_items(items)
    policy.save("runs/router/policy"); LMRouterPolicy.load("runs/router/policy")
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from audiorouter.config import ConfigError, RouterConfig
from audiorouter.contracts import SAMPLE_RATE, AudioQAItem, RoutingDecision
from audiorouter.features.audio import item_waveform
from audiorouter.packaged_files import PackagedFileError
from audiorouter.reasoner.cascade import describe_audio
from audiorouter.reasoner.loading import load_causal_lm, resolve_device, resolve_dtype, resolve_model
from audiorouter.router.actions import ActionSpace
from audiorouter.router.lm_prompt import (
    ROUTER_PROMPT_VERSION,
    end_of_turn_ids,
    routing_prompt,
    subset_token_ids,
)
from audiorouter.router.lm_rationale import Rationale, draw_rationale
from audiorouter.router.lm_scoring import continuation_logprobs, span_and_continuation_logprobs
from audiorouter.tools.base import describe_tools

BACKEND = "lm"
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj"]  # attention projections: Qwen2, Llama, SmolLM2


@dataclass(frozen=True)
class LMRouterSettings:
    """What a saved LM router records besides its adapter: enough to rebuild the same policy."""

    model: str
    temperature: float = 1.0
    describe_audio: bool = True
    dtype: str = "auto"
    device: str = "auto"
    lora_rank: int = 8
    lora_alpha: float = 16.0
    rationale_tokens: int = 0  # reasoning before routing (lm_rationale.py); 0 in routers saved before it
    score: str = "sum"  # router.lm_score; "sum" in routers saved before it

    @classmethod
    def from_config(cls, router: RouterConfig) -> LMRouterSettings:
        return cls(router.lm_model, router.lm_temperature, router.lm_describe_audio, router.lm_dtype,
                   router.lm_device, router.lora_rank, router.lora_alpha, router.rationale_tokens, router.lm_score)


def check_lm_router(router: RouterConfig, actions: ActionSpace) -> None:
    """ConfigError, before any model is loaded, when ``router.lm_model`` names nothing this
    machine holds (a preset whose packages are missing, a path that does not exist) or the
    action space has more subsets than ``router.max_subsets_lm`` allows one decision to score."""
    try:
        model = resolve_model(router.lm_model)
    except PackagedFileError as err:
        raise ConfigError(f"router.lm_model: {err}") from err
    if not Path(model).exists():
        raise ConfigError(f"router.lm_model {router.lm_model!r} is neither a packaged preset nor a local folder or "
                          ".gguf file on this machine (models are never downloaded at run time)")
    if len(actions.subsets) > router.max_subsets_lm:
        raise ConfigError(f"router.max_subsets_lm is {router.max_subsets_lm}, but {len(actions.tools)} tools with "
                          f"router.max_tools_per_call={router.max_tools_per_call} allow {len(actions.subsets)} "
                          "subsets: each is scored per decision; lower max_tools_per_call, enable fewer tools "
                          "or raise router.max_subsets_lm")


class LMRouterPolicy:
    """A router LM with its LoRA adapter, action space and prompt settings."""

    def __init__(self, adapted, tokenizer, actions: ActionSpace, settings: LMRouterSettings) -> None:
        """``adapted``: the peft model (it saves the adapter); ``self.lm`` is the causal LM
        inside it, its LoRA layers in place, which the scoring calls."""
        self.adapted, self.tokenizer, self.actions, self.settings = adapted, tokenizer, actions, settings
        self.lm = adapted.get_base_model()
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        self.tool_info = describe_tools(list(actions.tools))
        self.continuations = subset_token_ids(tokenizer, actions.subsets)
        self.reply_tokens = torch.tensor([len(c) for c in self.continuations], dtype=torch.float32)
        self.context = int(getattr(self.lm.config.get_text_config(), "max_position_embeddings", 0) or 0)
        # a rationale may not end the turn, and ends at its first line break (lm_rationale.py)
        self.banned = sorted({*end_of_turn_ids(tokenizer), *([tokenizer.eos_token_id] if tokenizer.eos_token_id
                                                              is not None else [])})
        self.line_end = tokenizer.encode("\n", add_special_tokens=False)
        self._ends_line: dict[int, bool] = {}

    @property
    def reasons(self) -> bool:
        return self.settings.rationale_tokens > 0

    # ------------------------------------------------------------------ building

    @classmethod
    def build(cls, router: RouterConfig, actions: ActionSpace) -> LMRouterPolicy:
        """The untrained (prompted) router: the configured LM with a fresh, zero-effect adapter."""
        check_lm_router(router, actions)
        settings = LMRouterSettings.from_config(router)
        lm, tokenizer = load_router_lm(settings)
        return cls(with_new_adapter(lm, settings), tokenizer, actions, settings)

    def save(self, directory: str | Path) -> Path:
        """``policy.json`` and ``adapter/`` (peft's files; the LM is named by settings.model)."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        self.adapted.save_pretrained(out / "adapter")
        spec = {"backend": BACKEND, "actions": self.actions.to_dict(), "settings": asdict(self.settings),
                "prompt_version": ROUTER_PROMPT_VERSION}
        (out / "policy.json").write_text(json.dumps(spec, indent=2))
        return out

    @classmethod
    def load(cls, directory: str | Path) -> LMRouterPolicy:
        from peft import PeftModel  # heavy: only where an LM router is used

        src = Path(directory)
        spec = json.loads((src / "policy.json").read_text())
        if spec.get("backend") != BACKEND:
            raise ValueError(f"{src}: not an LM router (backend {spec.get('backend', 'mlp')!r})")
        if spec.get("prompt_version") != ROUTER_PROMPT_VERSION:
            raise ValueError(f"{src}: trained on router prompt version {spec.get('prompt_version')}, this code "
                             f"writes version {ROUTER_PROMPT_VERSION}: its decisions would not be the trained ones")
        settings = LMRouterSettings(**spec["settings"])
        lm, tokenizer = load_router_lm(settings)
        peft_model = PeftModel.from_pretrained(lm, src / "adapter", is_trainable=False)
        return cls(peft_model.eval(), tokenizer, ActionSpace.from_dict(spec["actions"]), settings)

    # ------------------------------------------------------------------ the policy

    def prompt_ids(self, item: AudioQAItem) -> list[int]:
        """The item's routing prompt as tokens (``prompt_for``)."""
        waveform = item_waveform(item) if self.settings.describe_audio else None
        return self.prompt_for(item.question, item.choices, waveform, f"item {item.id}")

    def prompt_for(self, question: str, choices: list[str], waveform: np.ndarray | None, label: str) -> list[int]:
        """A routing prompt as tokens, the clip described when the settings say so; a
        ValueError naming ``label`` when it and the longest subset reply exceed the LM's context."""
        note = describe_audio(waveform, SAMPLE_RATE) if self.settings.describe_audio and waveform is not None else ""
        text = routing_prompt(self.tokenizer, question, choices, self.tool_info, note, reasoning=self.reasons)
        ids = self.tokenizer.encode(text, add_special_tokens=False)
        rationale = self.settings.rationale_tokens + len(self.line_end) if self.reasons else 0
        needed = len(ids) + rationale + max(len(c) for c in self.continuations)
        if self.context and needed > self.context:
            raise ValueError(f"{label}: the routing prompt needs {needed} tokens, the router LM's context "
                             f"is {self.context}")
        return ids

    def log_probs(self, prompt_ids: list[int]) -> torch.Tensor:
        """(K,) log pi(s | x) over ``actions.subsets``; differentiable (wrap in no_grad to route).
        With a rationale, ``prompt_ids`` is a ``Rationale.context``: pi(s | x, r)."""
        return self.policy_log_probs(continuation_logprobs(self.lm, prompt_ids, self.continuations, self.pad_id))

    def policy_log_probs(self, reply_logprobs: torch.Tensor) -> torch.Tensor:
        """(K,) log pi over the subsets from each reply's summed log-probability: summed or
        per token (``router.lm_score``), then a softmax at the temperature."""
        if self.settings.score == "mean":
            reply_logprobs = reply_logprobs / self.reply_tokens.to(reply_logprobs.device)
        return torch.log_softmax(reply_logprobs / self.settings.temperature, dim=-1)

    def rationale(self, prompt_ids: list[int], rng: np.random.Generator | None = None) -> Rationale:
        """The prompt extended by a rationale: sampled with ``rng``, else greedy."""
        return draw_rationale(self.lm, prompt_ids, self.settings.rationale_tokens, self.banned, self.line_end,
                              self.ends_line, rng)

    def log_probs_after(self, rationale: Rationale) -> tuple[torch.Tensor, torch.Tensor]:
        """(log p(r | x), (K,) log pi(s | x, r)) from one pass; differentiable."""
        spent, scores = span_and_continuation_logprobs(self.lm, rationale.context, rationale.span,
                                                       self.continuations, self.pad_id, self.banned)
        return spent, self.policy_log_probs(scores)

    def ends_line(self, token: int) -> bool:
        if token not in self._ends_line:
            self._ends_line[token] = "\n" in self.tokenizer.decode([token])
        return self._ends_line[token]

    def greedy(self, prompt_ids: list[int]) -> tuple[float, torch.Tensor]:
        """(log-probability of the greedy rationale, 0 without one; (K,) log pi over the
        subsets after it), without gradients."""
        with torch.no_grad():
            if not self.reasons:
                return 0.0, self.log_probs(prompt_ids)
            spent, row = self.log_probs_after(self.rationale(prompt_ids))
            return float(spent), row

    def distribution(self, items: Sequence[AudioQAItem]) -> np.ndarray:
        """(N, K) pi(s | x) per item (after the greedy rationale, with one), rows summing to one."""
        return np.stack([self.greedy(self.prompt_ids(item))[1].exp().cpu().numpy() for item in items])

    def route_prompts(self, prompts: Sequence[list[int]], ids: Sequence[str],
                      progress: bool = False) -> list[RoutingDecision]:
        """Greedy routing: each prompt's most likely subset (after the greedy rationale, with
        one), with its log-probability (the rationale's included). ``progress``: a bar over
        the prompts (a decision takes seconds on a CPU)."""
        decisions = []
        pairs = zip(prompts, ids, strict=True)
        for prompt, item_id in tqdm(pairs, total=len(prompts), desc="LM routing", unit="item", disable=not progress):
            spent, row = self.greedy(prompt)
            best = int(row.argmax())
            decisions.append(RoutingDecision(item_id, self.actions.subsets[best], spent + float(row[best])))
        return decisions

    def route_items(self, items: Sequence[AudioQAItem], cache_dir: str | None = None) -> list[RoutingDecision]:
        """Greedy decisions for ``items`` (``cache_dir`` is the MLP router's feature cache: unused)."""
        return self.route_prompts([self.prompt_ids(item) for item in items], [item.id for item in items],
                                  progress=len(items) > 1)

    def route_clips(self, waveforms: Sequence[np.ndarray], questions: Sequence[str], choices: Sequence[list[str]],
                    ids: Sequence[str]) -> list[RoutingDecision]:
        """Greedy decisions for online requests: 16 kHz mono clips with their questions and choices."""
        prompts = [self.prompt_for(q, c, w, f"request {i}")
                   for w, q, c, i in zip(waveforms, questions, choices, ids, strict=True)]
        return self.route_prompts(prompts, ids)

    def trainable_parameters(self) -> list[torch.nn.Parameter]:
        return [p for p in self.adapted.parameters() if p.requires_grad]

    def training_free_lines(self) -> dict[str, PromptedRouter]:
        """Policies that need no training, reported beside this one: the same LM without
        its adapter (prompted routing)."""
        return {PROMPTED: PromptedRouter(self)}


PROMPTED = "prompted router"  # its row in the evaluation reports


class PromptedRouter:
    """An LM router's decisions with its adapter switched off: the prompted LM alone."""

    def __init__(self, policy: LMRouterPolicy) -> None:
        self.policy = policy

    def route_items(self, items: Sequence[AudioQAItem], cache_dir: str | None = None) -> list[RoutingDecision]:
        with self.policy.adapted.disable_adapter():
            return self.policy.route_items(items, cache_dir)


def load_router_lm(settings: LMRouterSettings):
    """(LM, tokenizer) on the settings' device and dtype, frozen."""
    device = resolve_device(settings.device)
    lm, tokenizer = load_causal_lm(settings.model, resolve_dtype(settings.dtype, device), device)
    for parameter in lm.parameters():
        parameter.requires_grad_(False)
    return lm, tokenizer


def with_new_adapter(lm, settings: LMRouterSettings):
    """``lm`` wrapped with a new LoRA adapter on its attention projections (B = 0: no effect yet)."""
    from peft import LoraConfig, get_peft_model  # heavy: only where an LM router is used

    lora = LoraConfig(r=settings.lora_rank, lora_alpha=settings.lora_alpha, lora_dropout=0.0,
                      target_modules=LORA_TARGETS, task_type="CAUSAL_LM")
    return get_peft_model(lm, lora).eval()
