"""Grouping pieces into forwards: every piece once, at most ``max_rows`` per forward,
padding cut where it costs more than a forward, never dearer than batching by count."""

from __future__ import annotations

import random

import pytest

from audiorouter.reasoner.forward_batches import FORWARD_COST, batch_cost, forward_batches


def total_cost(batches, lengths, widths) -> float:
    return sum(batch_cost(len(b), max(lengths[i] for i in b), max(widths[i] for i in b)) for b in batches)


def test_equal_pieces_fill_whole_batches():
    batches = forward_batches([40] * 20, [100] * 20, max_rows=8)
    assert len(batches) == 3 and all(len(b) <= 8 for b in batches)  # as few forwards as fit
    assert sorted(i for b in batches for i in b) == list(range(20))


def test_a_long_piece_is_not_padded_against_short_ones():
    # the router's group: seven short tails and the all-tools tail
    lengths = [6, 30, 35, 40, 45, 50, 55, 260]
    batches = forward_batches(lengths, [100] * 8, max_rows=8)
    assert batches[-1] == [7] and sorted(i for b in batches[:-1] for i in b) == list(range(7))


def test_short_pieces_merge_when_a_forward_costs_more_than_their_padding():
    lengths = [6, 6, 8, 8]  # padding two tokens each is cheaper than a second forward
    assert 2 * 4 < FORWARD_COST
    assert forward_batches(lengths, [0] * 4, max_rows=8) == [[0, 1, 2, 3]]


def test_never_dearer_than_batching_the_sorted_pieces_by_count():
    rng = random.Random(0)
    for _ in range(100):
        n, max_rows = rng.randrange(1, 30), rng.randrange(1, 10)
        lengths = [rng.randrange(1, 300) for _ in range(n)]
        widths = [rng.randrange(0, 400) for _ in range(n)]
        batches = forward_batches(lengths, widths, max_rows)
        assert sorted(i for b in batches for i in b) == list(range(n))
        assert all(1 <= len(b) <= max_rows for b in batches)
        order = sorted(range(n), key=lambda i: (lengths[i], widths[i]))
        by_count = [order[b : b + max_rows] for b in range(0, n, max_rows)]
        assert total_cost(batches, lengths, widths) <= total_cost(by_count, lengths, widths) + 1e-9


def test_no_pieces_no_batches_and_max_rows_must_be_positive():
    assert forward_batches([], [], max_rows=4) == []
    with pytest.raises(ValueError, match="max_rows"):
        forward_batches([1], [0], max_rows=0)
