"""Log-probabilities of K continuations after one prompt, with the prompt computed once.

The LM router scores every allowed subset's reply after the same prompt. The prompt runs
through the model once; its keys and values are then shared by the K continuations,
which run together in one forward (right-padded, masked, positions continuing after
the prompt). Gradients flow through both passes, so the same function scores a decision
(under ``torch.no_grad``) and trains the adapter.

``naive_continuation_logprobs`` runs every continuation with its own full prompt: the
reference the shared path must equal (tests) and the baseline the benchmark times.
"""

from __future__ import annotations

import torch
from transformers import DynamicCache

from audiorouter.reasoner.scoring import pad_right


def continuation_logprobs(lm, prompt_ids: list[int], continuations: list[list[int]], pad_id: int) -> torch.Tensor:
    """(K,) summed log-probability of each continuation's tokens after ``prompt_ids``."""
    return _scored(lm, prompt_ids, continuations, pad_id)[1]


def span_and_continuation_logprobs(lm, prompt_ids: list[int], span: tuple[int, int], continuations: list[list[int]],
                                   pad_id: int, banned: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """(summed log-probability of ``prompt_ids[start:end]`` given the tokens before it, (K,)
    continuations' as ``continuation_logprobs``), from the same one pass over the prompt.
    The span's tokens were drawn with ``banned`` tokens excluded (the LM router's
    rationale: no end of turn inside it), so each is scored under that same renormalised
    distribution."""
    start, end = span
    if not 0 < start <= end <= len(prompt_ids):
        raise ValueError(f"span {span} is not inside a prompt of {len(prompt_ids)} tokens after its first")
    hidden, scores = _scored(lm, prompt_ids, continuations, pad_id)
    if start == end:
        return scores.new_zeros(()), scores
    logprobs = restricted(head_logprobs(lm, hidden[0, start - 1 : end - 1]), banned)
    targets = torch.tensor(prompt_ids[start:end], device=logprobs.device)
    return logprobs.gather(-1, targets[:, None]).sum(), scores


def restricted(logprobs: torch.Tensor, banned: list[int]) -> torch.Tensor:
    """Log-probabilities over the vocabulary renormalised without the ``banned`` tokens."""
    if not banned:
        return logprobs
    return torch.log_softmax(logprobs.index_fill(-1, torch.tensor(banned, device=logprobs.device), float("-inf")),
                             dim=-1)


def _scored(lm, prompt_ids: list[int], continuations: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(the prompt's final hidden states (1, P, H), (K,) continuations' summed log-probs)."""
    if not prompt_ids or not continuations or not all(continuations):
        raise ValueError("scoring needs a prompt and non-empty continuations")
    device = lm.device
    prompt = lm.model(input_ids=torch.tensor([prompt_ids], device=device), use_cache=True)
    count = len(continuations)
    layers = [(k.expand(count, -1, -1, -1), v.expand(count, -1, -1, -1)) for k, v, *_ in prompt.cache]
    cache = DynamicCache(ddp_cache_data=layers, config=lm.config.get_text_config())
    ids, mask = pad_right(continuations, pad_id, device)
    width = len(prompt_ids)
    positions = width + torch.arange(ids.shape[1], device=device)[None, :].expand(count, -1)
    attention = torch.cat([mask.new_ones((count, width)), mask], dim=1)
    tail = lm.model(input_ids=ids, attention_mask=attention, position_ids=positions, cache=cache,
                    use_cache=True).last_hidden_state
    # token j of a continuation is predicted by the state before it: the prompt's last for j = 0
    before = torch.cat([prompt.last_hidden_state[:, -1:].expand(count, -1, -1), tail[:, :-1]], dim=1)
    return prompt.last_hidden_state, shared_head_logprobs(lm, before, continuations)


def shared_head_logprobs(lm, before: torch.Tensor, continuations: list[list[int]]) -> torch.Tensor:
    """(K,) summed log-probs, the head run once per distinct reply prefix: replies that
    start alike ("tools: pitch, ...") share the states their common tokens are predicted
    from, and the float32 head over the vocabulary is the largest matmul of a decision
    (a 151k vocabulary at every reply position costs about what the LM's body does on
    200 prompt tokens)."""
    first: dict[tuple[int, ...], int] = {}  # a prefix -> its slot among the distinct states
    where, slot_of = [], []  # per slot: (row, position); per (row, token): its slot
    for row, tokens in enumerate(continuations):
        for j in range(len(tokens)):
            slot = first.setdefault(tuple(tokens[:j]), len(where))
            if slot == len(where):
                where.append((row, j))
            slot_of.append(slot)
    rows = torch.tensor([r for r, _ in where], device=before.device)
    cols = torch.tensor([c for _, c in where], device=before.device)
    logprobs = head_logprobs(lm, before[rows, cols])  # (distinct prefixes, vocabulary)
    targets = torch.tensor([t for tokens in continuations for t in tokens], device=before.device)
    picked = logprobs[torch.tensor(slot_of, device=before.device), targets]
    owner = torch.tensor([r for r, tokens in enumerate(continuations) for _ in tokens], device=before.device)
    return torch.zeros(len(continuations), dtype=picked.dtype, device=before.device).index_add(0, owner, picked)


def naive_continuation_logprobs(lm, prompt_ids: list[int], continuations: list[list[int]],
                                pad_id: int) -> torch.Tensor:
    """The same scores with each continuation run after its own copy of the prompt."""
    device = lm.device
    ids, mask = pad_right([prompt_ids + c for c in continuations], pad_id, device)
    hidden = lm.model(input_ids=ids, attention_mask=mask).last_hidden_state
    width, longest = len(prompt_ids), max(len(c) for c in continuations)
    before = hidden[:, width - 1 : width - 1 + longest]
    targets, target_mask = pad_right(continuations, pad_id, device)
    return summed_logprobs(lm, before, targets, target_mask)


def summed_logprobs(lm, hidden: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Sum over unmasked positions of log p(target | hidden state before it)."""
    picked = head_logprobs(lm, hidden).gather(-1, targets[..., None]).squeeze(-1)
    return (picked * mask).sum(dim=1)


def head_logprobs(lm, hidden: torch.Tensor) -> torch.Tensor:
    """Log-probabilities over the vocabulary from final hidden states, in float32 (a bf16
    head rounds log-probs to ~0.1)."""
    head = lm.get_output_embeddings()
    bias = None if getattr(head, "bias", None) is None else head.bias.float()
    return torch.log_softmax(torch.nn.functional.linear(hidden.float(), head.weight.float(), bias), dim=-1)
