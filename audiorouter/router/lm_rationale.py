"""Reasoning before routing (``router.rationale_tokens`` > 0): the router LM first writes
a short rationale, then the subsets are scored after it.

The reply then starts ``reasoning:`` (the prompt ends there, lm_prompt.py), the LM
continues for at most ``rationale_tokens`` tokens and stops at the first token that
ends a line; a rationale cut by the limit gets a newline appended (forced, so not
part of the policy). The subset replies ("tools: ...") are scored after it::

    <|im_start|>assistant
    reasoning: the question asks for a tempo, so measure it.
    tools: tempo<|im_end|>

End-of-turn tokens are excluded while the rationale is drawn (it must not end the
reply), and ``span_and_continuation_logprobs`` scores its tokens under that same
renormalised distribution, so the policy's log-probability of a routing sample is

    log pi(r, s | x) = log p(r | x) + log pi(s | x, r)

and the group-relative learner's ratio moves both the rationale and the choice. A
greedy decision takes the most likely token at each step, then the most likely subset:
deterministic for a given item.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from audiorouter.router.lm_scoring import head_logprobs, restricted


@dataclass(frozen=True)
class Rationale:
    """A routing prompt extended by a rationale: ``context`` = prompt + rationale (+ a
    forced newline); ``span`` = where the rationale's own tokens lie in it."""

    context: list[int]
    span: tuple[int, int]

    @property
    def tokens(self) -> list[int]:
        return self.context[self.span[0] : self.span[1]]


def draw_rationale(lm, prompt_ids: list[int], max_tokens: int, banned: list[int], line_end: list[int],
                   ends_line, rng: np.random.Generator | None) -> Rationale:
    """At most ``max_tokens`` tokens after ``prompt_ids``: sampled from the LM (``rng``), or
    greedy (``rng`` None); ``banned`` tokens excluded; stops after a token for which
    ``ends_line(token)``, else ``line_end`` (a newline's tokens) is appended."""
    tokens: list[int] = []
    device = lm.device
    with torch.no_grad():
        out = lm.model(input_ids=torch.tensor([prompt_ids], device=device), use_cache=True)
        for _ in range(max_tokens):
            logprobs = restricted(head_logprobs(lm, out.last_hidden_state[0, -1:]), banned)[0]
            if rng is None:
                token = int(logprobs.argmax())
            else:
                probs = logprobs.double().exp().cpu().numpy()
                token = int(rng.choice(len(probs), p=probs / probs.sum()))
            tokens.append(token)
            if ends_line(token):
                break
            out = lm.model(input_ids=torch.tensor([[token]], device=device), cache=out.cache, use_cache=True)
    end = len(prompt_ids) + len(tokens)
    closed = bool(tokens) and ends_line(tokens[-1])
    return Rationale(list(prompt_ids) + tokens + ([] if closed else list(line_end)), (len(prompt_ids), end))
