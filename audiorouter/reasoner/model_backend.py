"""What the transformers back-ends (cascade, lalm) share: device and dtype, the choice
scorer, the letter tokens, and the identity that keys their memo entries."""

from __future__ import annotations

from audiorouter.config import ReasonerConfig
from audiorouter.reasoner.base import Reasoner
from audiorouter.reasoner.loading import resolve_device, resolve_dtype
from audiorouter.reasoner.prompting import LETTERS, PROMPT_VERSION
from audiorouter.reasoner.scoring import LMScorer


class ModelReasoner(Reasoner):
    """Base of back-ends that answer with a transformers model and its tokenizer."""

    def __init__(self, config: ReasonerConfig) -> None:
        super().__init__(config)
        self.device = resolve_device(config.device)
        self.dtype = resolve_dtype(config.dtype, self.device)

    def attach(self, model, tokenizer, default_context: int) -> None:
        """Use ``model``/``tokenizer``: the scorer, letter ids and context length."""
        self.model, self.tokenizer = model, tokenizer
        pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        self.scorer = LMScorer(model, pad_id)
        self.letter_ids = [tokenizer.encode(letter, add_special_tokens=False)[0] for letter in LETTERS]
        self.context = self.config.max_prompt_tokens or default_context

    def identity(self) -> str:
        c = self.config
        mode = f"{c.answer_mode}-{c.score_target}" if c.answer_mode == "score" else f"generate{c.max_new_tokens}"
        return f"{c.model}|{mode}|{str(self.dtype).removeprefix('torch.')}|prompt{PROMPT_VERSION}"
