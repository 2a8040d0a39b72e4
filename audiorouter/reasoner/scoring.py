"""Scoring token sequences with a causal LM, sharing the prompt prefix of a question.

A ``ScoringRow`` is one token sequence to score: the prompt, plus in "text" mode the
choice whose log-likelihood is wanted. Rows of one ``group`` (the evidence variants of
one question, or the choices of one prompt) start with the same tokens; with
``reuse_prefix`` their longest common prefix runs through the model once and its KV
states are reused by each row, so only the differing tail is computed per row:

    1. group prefixes, batched by length --forward--> KV states kept per group
    2. tails sorted by length and batched (little padding, whatever their group);
       each batch gets its rows' prefix states (left-padded, masked) as the cache
       --forward--> hidden state where the answer is predicted --lm_head--> log-probs

Positions are explicit (prefix: 0..p-1; tail: p, p+1, ...), so a row's scores do not
depend on its batch mates beyond float rounding. The lm_head is applied only where a
score is read, never to the whole sequence.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import torch
from transformers import DynamicCache


@dataclass
class ScoringRow:
    tokens: list[int]  # the whole sequence (prompt, then the scored span in text mode)
    group: Hashable  # rows of one group share a prefix that is computed once
    letter_ids: list[int] | None = None  # letter mode: next-token ids read after the last token
    span: int = 0  # text mode: the last ``span`` tokens are scored (mean log-prob)


class LMScorer:
    """Scores rows with one causal LM. The lm_head runs in float32 (a bf16 head rounds
    log-probs to ~0.1 and ties choices), only at the positions that are read."""

    def __init__(self, model, pad_id: int) -> None:
        self.model = model
        self.pad_id = pad_id
        head = model.get_output_embeddings()
        self.head_weight = head.weight.detach().float()
        self.head_bias = None if getattr(head, "bias", None) is None else head.bias.detach().float()

    def logprobs(self, hidden: torch.Tensor) -> torch.Tensor:
        """Log-probabilities over the vocabulary from final hidden states (..., hidden)."""
        logits = torch.nn.functional.linear(hidden.float(), self.head_weight, self.head_bias)
        return torch.log_softmax(logits, dim=-1)

    def score(self, rows: list[ScoringRow], batch_size: int, reuse_prefix: bool) -> list[list[float]]:
        """Per row: log-probs of its ``letter_ids`` (letter mode) or ``[mean log-prob of
        its span]`` (text mode)."""
        groups: dict[Hashable, list[int]] = {}
        for i, row in enumerate(rows):
            groups.setdefault(row.group if reuse_prefix else i, []).append(i)
        members = list(groups.values())
        lengths = [shared_prefix_length([rows[i] for i in m]) if reuse_prefix else 0 for m in members]
        states = self.prefix_states([rows[m[0]].tokens[:n] for m, n in zip(members, lengths, strict=True)], batch_size)
        group_of = {i: g for g, m in enumerate(members) for i in m}
        order = sorted(range(len(rows)), key=lambda i: len(rows[i].tokens) - lengths[group_of[i]])
        results: list[list[float]] = [[] for _ in rows]
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            prefix = [(lengths[group_of[i]], states[group_of[i]]) for i in chunk]
            for i, scores in zip(chunk, self.score_tails([rows[i] for i in chunk], prefix), strict=True):
                results[i] = scores
        return results

    @torch.inference_mode()
    def prefix_states(self, prefixes: list[list[int]], batch_size: int) -> list[list[tuple] | None]:
        """Per prefix: its (key, value) per layer, each (1, heads, length, dim); None if empty."""
        states: list[list[tuple] | None] = [None] * len(prefixes)
        order = sorted((g for g, p in enumerate(prefixes) if p), key=lambda g: len(prefixes[g]))
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            ids, mask = pad_left([prefixes[g] for g in batch], self.pad_id, self.model.device)
            positions = (mask.cumsum(-1) - 1).clamp(min=0)
            cache = self.model.model(input_ids=ids, attention_mask=mask, position_ids=positions,
                                     use_cache=True).past_key_values
            width = ids.shape[1]
            for row, g in enumerate(batch):
                pad = width - len(prefixes[g])
                states[g] = [(k[row : row + 1, :, pad:], v[row : row + 1, :, pad:]) for k, v, *_ in cache]
        return states

    @torch.inference_mode()
    def score_tails(self, rows: list[ScoringRow], prefix: list[tuple[int, list | None]]) -> list[list[float]]:
        """One forward of the rows' tails after their prefixes' states."""
        device = self.model.device
        tails = [row.tokens[n:] for row, (n, _) in zip(rows, prefix, strict=True)]
        tail_ids, tail_mask = pad_right(tails, self.pad_id, device)
        starts = torch.tensor([n for n, _ in prefix], device=device)
        positions = starts[:, None] + torch.arange(tail_ids.shape[1], device=device)[None, :]
        cache, prefix_mask = stack_prefix_states([state for _, state in prefix], self.model.config, device)
        mask = tail_mask if prefix_mask is None else torch.cat([prefix_mask, tail_mask], dim=1)
        hidden = self.model.model(input_ids=tail_ids, attention_mask=mask, position_ids=positions,
                                  past_key_values=cache, use_cache=cache is not None).last_hidden_state
        return read_scores(self, hidden, rows, [len(t) for t in tails])


def shared_prefix_length(rows: list[ScoringRow]) -> int:
    """Tokens all rows share, leaving every row at least the tokens it scores from."""
    first = rows[0].tokens
    length = min(len(row.tokens) - row.span - 1 for row in rows)
    for row in rows[1:]:
        n = 0
        while n < length and row.tokens[n] == first[n]:
            n += 1
        length = n
    return max(length, 0)


def stack_prefix_states(states: list[list | None], config, device) -> tuple[DynamicCache | None, torch.Tensor | None]:
    """A batch cache from per-row prefix states, left-padded with zeros and masked."""
    if all(state is None for state in states):
        return None, None
    width = max(0 if s is None else s[0][0].shape[2] for s in states)
    template = next(s for s in states if s is not None)
    mask = torch.zeros((len(states), width), dtype=torch.long, device=device)
    layers = []
    for layer, (key, value) in enumerate(template):
        keys, values = [], []
        for row, state in enumerate(states):
            k, v = (key[:, :, :0], value[:, :, :0]) if state is None else state[layer]
            pad = width - k.shape[2]
            keys.append(torch.nn.functional.pad(k, (0, 0, pad, 0)))
            values.append(torch.nn.functional.pad(v, (0, 0, pad, 0)))
            if layer == 0:
                mask[row, pad:] = 1
        layers.append((torch.cat(keys), torch.cat(values)))
    return DynamicCache(ddp_cache_data=layers, config=config), mask


def read_scores(scorer: LMScorer, hidden: torch.Tensor, rows: list[ScoringRow], tail_lengths: list[int]) -> list[list[float]]:
    scores: list[list[float]] = []
    for r, (row, length) in enumerate(zip(rows, tail_lengths, strict=True)):
        if row.letter_ids is not None:
            scores.append(scorer.logprobs(hidden[r, length - 1])[row.letter_ids].tolist())
        else:
            where = torch.arange(length - row.span - 1, length - 1, device=hidden.device)
            targets = torch.tensor(row.tokens[-row.span :], device=hidden.device)
            scores.append([scorer.logprobs(hidden[r, where]).gather(1, targets[:, None]).mean().item()])
    return scores


def pad_right(seqs: list[list[int]], pad_id: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, seq in enumerate(seqs):
        ids[i, : len(seq)] = torch.tensor(seq)
        mask[i, : len(seq)] = 1
    return ids.to(device), mask.to(device)


def pad_left(seqs: list[list[int]], pad_id: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, seq in enumerate(seqs):
        ids[i, width - len(seq) :] = torch.tensor(seq)
        mask[i, width - len(seq) :] = 1
    return ids.to(device), mask.to(device)


@torch.inference_mode()
def generate_texts(model, tokenizer, token_lists: list[list[int]], max_new_tokens: int, batch_size: int) -> list[str]:
    """Greedy continuations of each prompt, decoded without special tokens."""
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    texts: list[str] = []
    for start in range(0, len(token_lists), batch_size):
        batch = token_lists[start : start + batch_size]
        ids, mask = pad_left(batch, pad_id, model.device)
        out = model.generate(
            input_ids=ids, attention_mask=mask, max_new_tokens=max_new_tokens, do_sample=False,
            pad_token_id=pad_id, eos_token_id=tokenizer.eos_token_id,
        )
        texts += tokenizer.batch_decode(out[:, ids.shape[1] :], skip_special_tokens=True)
    return texts
