"""Which token spans a batch of sequences shares: a radix tree planned before any forward.

Scoring requests are token sequences that overlap at their starts: every prompt opens
with the same system turn, the evidence variants of one question share the question
and choices, and variants with the same leading tool lines share those lines too
(the evidence block is sorted by tool name). ``plan_prefixes`` finds every span at
least two sequences share and makes it a ``Node``; a sequence's own remainder is its
tail::

    sequences                   nodes (computed once)          tails (per sequence)
    S Q1 E:pitch  E:tempo  I    0: S                           E:tempo I    (under 1)
    S Q1 E:pitch  I             1: Q1 E:pitch (under 0)        I            (under 1)
    S Q2 E:tempo  I                                            Q2 E:tempo I (under 0)

A node is only made when it is at least ``min_tokens`` long: a shorter shared span
costs less recomputed in each tail than as one more forward level. Each sequence may
also reserve its last ``keep`` tokens for its tail (the tokens it is scored from).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

MIN_NODE_TOKENS = 4


@dataclass
class Node:
    start: int  # position of the node's first token
    tokens: list[int]
    parent: int  # index of the parent node, -1 at the root
    level: int  # 0 for nodes without a parent
    row: int  # a sequence that holds this node's tokens (at start..start+len)


@dataclass
class PrefixPlan:
    nodes: list[Node] = field(default_factory=list)
    row_node: list[int] = field(default_factory=list)  # per sequence: its deepest node, -1 for none
    tail_start: list[int] = field(default_factory=list)  # per sequence: where its own tail begins

    def chain(self, node: int) -> list[int]:
        """Node indices from the root down to ``node`` (empty for -1)."""
        out = []
        while node >= 0:
            out.append(node)
            node = self.nodes[node].parent
        return out[::-1]

    def chain_tokens(self, node: int) -> int:
        """Tokens in the chain from the root down to ``node`` (0 for -1): the cache width
        a piece under it attends to."""
        return sum(len(self.nodes[n].tokens) for n in self.chain(node))

    def computed_tokens(self, lengths: Sequence[int]) -> int:
        """Tokens run through the model: every node once, then every tail."""
        return sum(len(n.tokens) for n in self.nodes) + sum(n - s for n, s in zip(lengths, self.tail_start, strict=True))


def no_sharing(count: int) -> PrefixPlan:
    return PrefixPlan([], [-1] * count, [0] * count)


def plan_prefixes(sequences: Sequence[Sequence[int]], keep: Sequence[int] | None = None,
                  min_tokens: int = MIN_NODE_TOKENS) -> PrefixPlan:
    """The shared spans of ``sequences``; sequence i keeps its last ``keep[i]`` tokens
    (default 1: the token the next-token scores are read after) in its tail."""
    keep = list(keep) if keep is not None else [1] * len(sequences)
    keys = [list(seq[: max(len(seq) - k, 0)]) for seq, k in zip(sequences, keep, strict=True)]
    plan = PrefixPlan([], [-1] * len(keys), [0] * len(keys))
    # (members whose keys agree up to depth, where their not-yet-shared tokens start, parent node)
    pending = [(list(range(len(keys))), 0, 0, -1)]
    while pending:
        members, seg_start, depth, parent = pending.pop()
        if len(members) == 1:
            plan.row_node[members[0]], plan.tail_start[members[0]] = parent, seg_start
            continue
        end = _common_length(keys, members, depth)
        if end - seg_start >= min_tokens:
            level = 0 if parent < 0 else plan.nodes[parent].level + 1
            plan.nodes.append(Node(seg_start, keys[members[0]][seg_start:end], parent, level, members[0]))
            parent, seg_start = len(plan.nodes) - 1, end
        branches: dict[int, list[int]] = {}
        for i in members:
            if len(keys[i]) == end:  # the key ends here: the rest of the sequence is its tail
                plan.row_node[i], plan.tail_start[i] = parent, seg_start
            else:
                branches.setdefault(keys[i][end], []).append(i)
        pending += [(branch, seg_start, end + 1 if len(branch) > 1 else end, parent) for branch in branches.values()]
    return plan


def _common_length(keys: list[list[int]], members: list[int], depth: int) -> int:
    """Length of the longest prefix all ``members`` share (they agree up to ``depth``)."""
    first = keys[members[0]]
    end = min(len(keys[i]) for i in members)
    for i in members[1:]:
        key, n = keys[i], depth
        while n < end and key[n] == first[n]:
            n += 1
        end = n
    return end
