"""The radix-tree plan of shared token spans: it rebuilds every sequence exactly, shares
what two or more sequences share, and keeps each sequence's scored tokens in its tail."""

from __future__ import annotations

import random

from audiorouter.reasoner.prefix_tree import no_sharing, plan_prefixes

SYSTEM, Q1, Q2 = [1, 2, 3, 4, 5], [10, 11, 12, 13], [20, 21, 22, 23]
PITCH, TEMPO, END = [30, 31, 32, 33, 34], [40, 41, 42, 43], [50, 51]


def rebuilt(plan, sequences):
    return [[t for n in plan.chain(plan.row_node[i]) for t in plan.nodes[n].tokens] + seq[plan.tail_start[i] :]
            for i, seq in enumerate(sequences)]


def test_the_docstring_example():
    sequences = [SYSTEM + Q1 + PITCH + TEMPO + END, SYSTEM + Q1 + PITCH + END, SYSTEM + Q2 + TEMPO + END]
    plan = plan_prefixes(sequences)
    assert [(n.tokens, n.parent, n.level) for n in plan.nodes] == [
        (SYSTEM, -1, 0), (Q1 + PITCH, 0, 1)]  # Q1 and PITCH always appear together: one node
    assert plan.row_node == [1, 1, 0] and plan.tail_start == [14, 14, 5]
    assert rebuilt(plan, sequences) == sequences
    lengths = [len(s) for s in sequences]
    assert plan.computed_tokens(lengths) == 5 + 9 + (6 + 2) + 10 < sum(lengths)
    assert [plan.chain_tokens(n) for n in plan.row_node] == [14, 14, 5] and plan.chain_tokens(-1) == 0


def test_spans_shorter_than_min_tokens_stay_in_the_tails():
    sequences = [[1, 2, 3, 7, 8], [1, 2, 3, 9, 8]]
    assert plan_prefixes(sequences, min_tokens=4).nodes == []
    plan = plan_prefixes(sequences, min_tokens=3)
    assert [n.tokens for n in plan.nodes] == [[1, 2, 3]] and plan.tail_start == [3, 3]


def test_scored_tokens_stay_in_each_tail_even_for_identical_sequences():
    same = [SYSTEM + Q1, SYSTEM + Q1]
    plan = plan_prefixes(same, keep=[3, 3])
    assert all(len(seq) - start >= 3 for seq, start in zip(same, plan.tail_start, strict=True))
    assert plan.nodes[0].tokens == (SYSTEM + Q1)[:-3]


def test_random_batches_rebuild_exactly_and_never_compute_more():
    rng = random.Random(0)
    for _ in range(200):
        stems = [[rng.randrange(6) for _ in range(rng.randrange(0, 12))] for _ in range(3)]
        sequences = [rng.choice(stems) + [rng.randrange(6) for _ in range(rng.randrange(1, 8))]
                     for _ in range(rng.randrange(1, 9))]
        keep = [rng.randrange(1, 3) for _ in sequences]
        plan = plan_prefixes(sequences, keep, min_tokens=rng.randrange(1, 5))
        assert rebuilt(plan, sequences) == sequences
        assert all(len(s) - t >= min(k, len(s)) for s, t, k in zip(sequences, plan.tail_start, keep, strict=True))
        for node in plan.nodes:  # a node's start is where its parent ends
            parent_end = 0 if node.parent < 0 else plan.nodes[node.parent].start + len(plan.nodes[node.parent].tokens)
            assert node.start == parent_end and node.tokens
        lengths = [len(s) for s in sequences]
        assert plan.computed_tokens(lengths) <= sum(lengths)


def test_no_sharing_leaves_whole_sequences_as_tails():
    plan = no_sharing(3)
    assert plan.nodes == [] and plan.row_node == [-1, -1, -1] and plan.tail_start == [0, 0, 0]
