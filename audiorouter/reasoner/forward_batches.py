"""Which pieces run together in one forward: a cost-minimising split of a sorted list.

Every forward pays a fixed cost (the weights are streamed from memory once, whatever
the batch) and then a cost per padded token, which grows with the keys each token
attends to. Batching everything by count alone pads short pieces to the longest one in
their batch: in the router's group (no tool, each tool, every tool) a third of the
tokens were padding. ``forward_batches`` sorts the pieces and splits them, by dynamic
programming, where the padding would cost more than the extra forward.

The constants are in units of one token's forward without keys, measured with
SmolLM2-135M in bf16 on 2 CPU cores (a 1-token forward costs as much as ~56 tokens in a
large batch; a token's attention over 300 keys adds about half its matmul cost). On a
GPU the fixed cost weighs more, so pieces merge up to ``max_rows`` more readily.
"""

from __future__ import annotations

from collections.abc import Sequence

FORWARD_COST = 56.0  # fixed cost of one forward, in token units
KEY_COST = 0.0016  # attention cost per key a token attends to, in token units


def batch_cost(count: int, length: int, keys: int) -> float:
    """Cost of one forward of ``count`` pieces padded to ``length`` tokens, each after
    ``keys`` cached keys (padded)."""
    return FORWARD_COST + count * length * (1 + KEY_COST * (keys + length))


def forward_batches(lengths: Sequence[int], widths: Sequence[int], max_rows: int) -> list[list[int]]:
    """Indices of the pieces grouped into forwards of at most ``max_rows``: piece i has
    ``lengths[i]`` new tokens after a cache ``widths[i]`` wide. Pieces are sorted by
    (length, width) and the sorted list is cut where the total ``batch_cost`` is least."""
    if max_rows < 1:
        raise ValueError(f"max_rows must be at least 1, got {max_rows}")
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], widths[i]))
    # best[j]: least cost of the first j sorted pieces; cut[j]: where its last batch starts
    best = [0.0] + [float("inf")] * len(order)
    cut = [0] * (len(order) + 1)
    for end in range(1, len(order) + 1):
        keys = 0
        for start in range(end - 1, max(end - max_rows, 0) - 1, -1):
            keys = max(keys, widths[order[start]])
            cost = best[start] + batch_cost(end - start, lengths[order[end - 1]], keys)
            if cost < best[end]:
                best[end], cut[end] = cost, start
    batches, end = [], len(order)
    while end > 0:
        batches.append(order[cut[end] : end])
        end = cut[end]
    return batches[::-1]
