"""Scoring token sequences with a causal LM, computing the spans they share once.

A ``ScoringRow`` is one token sequence to score: the prompt, plus in "text" mode the
choice whose log-likelihood is wanted. With ``reuse_prefix`` the rows of a call are
planned into a radix tree (prefix_tree.py): every span two or more rows share -- the
system turn, a clip's description, leading evidence lines -- runs through the
model once and its KV states are reused below it; each row computes only its tail:

    1. nodes, level by level: each gets its ancestors' states as the cache
       (left-padded, masked) --forward--> its own KV states, kept
    2. tails, each with its deepest node's chain of states --forward--> hidden state
       where the answer is read --lm_head--> log-probs

Both steps group their pieces into forwards by length, cutting where padding would
cost more than one more forward (forward_batches.py).

Positions are explicit (a node or tail continues at its start position), so a row's
scores do not depend on its batch mates beyond float rounding. Rows are planned in
windows of ``PLAN_WINDOW`` (sorted, so a question's variants stay together), which
bounds the states held at once. The lm_head is applied only where a score is read.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import DynamicCache

from audiorouter.reasoner.forward_batches import forward_batches
from audiorouter.reasoner.prefix_tree import PrefixPlan, no_sharing, plan_prefixes

PLAN_WINDOW = 256  # rows planned (and their shared states held) together


@dataclass
class ScoringRow:
    tokens: list[int]  # the whole sequence (prompt, then the scored span in text mode)
    letter_ids: list[int] | None = None  # letter mode: next-token ids read after the last token
    span: int = 0  # text mode: the last ``span`` tokens are scored (mean log-prob)
    # Input embeddings (len(tokens), hidden) when the model does not read ``tokens`` itself
    # (an audio LM's merged audio features); ``tokens`` then only keys the sharing plan,
    # so positions holding different content must hold different keys.
    embeds: torch.Tensor | None = None


Piece = tuple[ScoringRow, int, int]  # a row's tokens start..end, run through the model


class LMScorer:
    """Scores rows with one causal LM. The lm_head runs in float32 (a bf16 head rounds
    log-probs to ~0.1 and ties choices), only at the positions that are read."""

    def __init__(self, model, pad_id: int) -> None:
        self.model = model
        self.pad_id = pad_id
        self.text_config = model.config.get_text_config()
        head = model.get_output_embeddings()
        self.head_weight = head.weight.detach().float()
        self.head_bias = None if getattr(head, "bias", None) is None else head.bias.detach().float()

    def logprobs(self, hidden: torch.Tensor) -> torch.Tensor:
        """Log-probabilities over the vocabulary from final hidden states (..., hidden)."""
        logits = torch.nn.functional.linear(hidden.float(), self.head_weight, self.head_bias)
        return torch.log_softmax(logits, dim=-1)

    def plan(self, rows: list[ScoringRow], reuse_prefix: bool) -> PrefixPlan:
        if not reuse_prefix:
            return no_sharing(len(rows))
        return plan_prefixes([row.tokens for row in rows], [row.span + 1 for row in rows])

    def score(self, rows: list[ScoringRow], batch_size: int, reuse_prefix: bool) -> list[list[float]]:
        """Per row: log-probs of its ``letter_ids`` (letter mode) or ``[mean log-prob of
        its span]`` (text mode)."""
        results: list[list[float]] = [[] for _ in rows]
        order = sorted(range(len(rows)), key=lambda i: rows[i].tokens)
        for begin in range(0, len(order), PLAN_WINDOW):
            window = order[begin : begin + PLAN_WINDOW]
            for i, scores in zip(window, self.score_window([rows[i] for i in window], batch_size, reuse_prefix),
                                 strict=True):
                results[i] = scores
        return results

    def score_window(self, rows: list[ScoringRow], batch_size: int, reuse_prefix: bool) -> list[list[float]]:
        plan = self.plan(rows, reuse_prefix)
        states = self.node_states(plan, rows, batch_size)
        results: list[list[float]] = [[] for _ in rows]
        lengths = [len(row.tokens) - start for row, start in zip(rows, plan.tail_start, strict=True)]
        widths = [plan.chain_tokens(node) for node in plan.row_node]
        for chunk in forward_batches(lengths, widths, batch_size):
            tails = [(rows[i], plan.tail_start[i], len(rows[i].tokens)) for i in chunk]
            chains = [[states[n] for n in plan.chain(plan.row_node[i])] for i in chunk]
            hidden, _, _ = self.forward(tails, chains)
            read = read_scores(self, hidden, [rows[i] for i in chunk], [lengths[i] for i in chunk])
            for i, scores in zip(chunk, read, strict=True):
                results[i] = scores
        return results

    def node_states(self, plan: PrefixPlan, rows: list[ScoringRow], batch_size: int) -> list[list[tuple]]:
        """Per node: its own tokens' (key, value) per layer, each (1, heads, length, dim)."""
        states: list[list[tuple]] = [[] for _ in plan.nodes]
        levels = sorted({node.level for node in plan.nodes})
        for level in levels:
            todo = [n for n, node in enumerate(plan.nodes) if node.level == level]
            lengths = [len(plan.nodes[n].tokens) for n in todo]
            widths = [plan.chain_tokens(plan.nodes[n].parent) for n in todo]
            for positions in forward_batches(lengths, widths, batch_size):
                batch = [todo[p] for p in positions]
                nodes = [plan.nodes[n] for n in batch]
                pieces = [(rows[node.row], node.start, node.start + len(node.tokens)) for node in nodes]
                chains = [[states[a] for a in plan.chain(node.parent)] for node in nodes]
                _, cache, width = self.forward(pieces, chains)
                for row, (n, node) in enumerate(zip(batch, nodes, strict=True)):
                    end = width + len(node.tokens)
                    # copies, not views: a view would keep the whole batch cache (chains included) alive
                    states[n] = [(k[row : row + 1, :, width:end].clone(), v[row : row + 1, :, width:end].clone())
                                 for k, v, *_ in cache]
        return states

    @torch.inference_mode()
    def forward(self, pieces: list[Piece], chains: list[list[list[tuple]]]):
        """One forward of the pieces (right-padded), each after its chain of states:
        (last hidden states, the cache, the width its chains were padded to)."""
        device = self.model.device
        inputs, seg_mask = self.piece_inputs(pieces)
        starts = torch.tensor([start for _, start, _ in pieces], device=device)
        positions = starts[:, None] + torch.arange(seg_mask.shape[1], device=device)[None, :]
        cache, prefix_mask = stack_chains(chains, self.text_config, device)
        mask = seg_mask if prefix_mask is None else torch.cat([prefix_mask, seg_mask], dim=1)
        out = self.model.model(**inputs, attention_mask=mask, position_ids=positions, cache=cache,
                               use_cache=True)
        return out.last_hidden_state, out.cache, 0 if prefix_mask is None else prefix_mask.shape[1]

    def piece_inputs(self, pieces: list[Piece]) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """``input_ids`` (or ``inputs_embeds`` when the rows carry embeddings), right-padded,
        and the mask of real positions."""
        device = self.model.device
        if all(row.embeds is None for row, _, _ in pieces):
            ids, mask = pad_right([row.tokens[start:end] for row, start, end in pieces], self.pad_id, device)
            return {"input_ids": ids}, mask
        width = max(end - start for _, start, end in pieces)
        template = next(row.embeds for row, _, _ in pieces if row.embeds is not None)
        embeds = template.new_zeros((len(pieces), width, template.shape[-1]))
        mask = torch.zeros((len(pieces), width), dtype=torch.long, device=device)
        for i, (row, start, end) in enumerate(pieces):
            if row.embeds is None:
                raise ValueError("rows scored together must all carry input embeddings or none")
            embeds[i, : end - start] = row.embeds[start:end]
            mask[i, : end - start] = 1
        return {"inputs_embeds": embeds}, mask


def stack_chains(chains: list[list[list[tuple]]], config, device) -> tuple[DynamicCache | None, torch.Tensor | None]:
    """A batch cache from per-row chains of node states (each row's chain joined in
    order), left-padded with zeros and masked; (None, None) when every chain is empty.
    Each layer's keys and values are allocated once and filled in place."""
    lengths = [sum(state[0][0].shape[2] for state in chain) for chain in chains]
    if not any(lengths):
        return None, None
    width = max(lengths)
    template = next(chain[0] for chain in chains if chain)
    mask = torch.zeros((len(chains), width), dtype=torch.long, device=device)
    for row, length in enumerate(lengths):
        mask[row, width - length :] = 1
    layers = []
    for layer, (key, value) in enumerate(template):
        keys = key.new_zeros((len(chains), key.shape[1], width, key.shape[3]))
        values = value.new_zeros((len(chains), value.shape[1], width, value.shape[3]))
        for row, (chain, length) in enumerate(zip(chains, lengths, strict=True)):
            at = width - length
            for state in chain:
                k, v = state[layer]
                keys[row, :, at : at + k.shape[2]] = k[0]
                values[row, :, at : at + v.shape[2]] = v[0]
                at += k.shape[2]
        layers.append((keys, values))
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
