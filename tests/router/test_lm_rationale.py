"""Reasoning before routing (router.rationale_tokens) on a tiny random causal LM: the
rationale's log-probability and the subsets' after it equal naive full-sequence scoring,
greedy decisions are deterministic and carry both log-probabilities, and the
group-relative learner trains the rationale and the choice together."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from lm_router_helpers import lm_router, question_items

from audiorouter.config import ConfigError, RouterConfig
from audiorouter.rl.lm_learner import group_loss, sample_groups, update, with_advantages
from audiorouter.router.lm_prompt import REASONING_START
from audiorouter.router.lm_scoring import head_logprobs, naive_continuation_logprobs, restricted

LIMIT = 6


@pytest.fixture(scope="module")
def items():
    return question_items()


def naive_span_logprob(policy, context: list[int], span: tuple[int, int]) -> torch.Tensor:
    """log p(context[start:end] | context[:start]) from one plain forward over the whole context,
    each token under the distribution without the banned (end-of-turn) tokens."""
    start, end = span
    hidden = policy.lm.model(input_ids=torch.tensor([context])).last_hidden_state[0]
    logprobs = restricted(head_logprobs(policy.lm, hidden[start - 1 : end - 1]), policy.banned)
    return logprobs.gather(-1, torch.tensor(context[start:end])[:, None]).sum()


def test_a_rationale_and_the_subsets_after_it_equal_naive_scoring(tiny_causal_lm, items):
    policy = lm_router(tiny_causal_lm, rationale_tokens=LIMIT, lm_temperature=2.0)
    prompt = policy.prompt_ids(items[0])
    assert policy.tokenizer.decode(prompt).endswith(REASONING_START)  # the reply starts with the rationale
    rng = np.random.default_rng(0)
    for rationale in [policy.rationale(prompt), *(policy.rationale(prompt, rng) for _ in range(4))]:
        tokens = rationale.tokens
        assert rationale.context[: len(prompt)] == prompt and 1 <= len(tokens) <= LIMIT
        assert not set(tokens) & set(policy.banned)
        if not policy.ends_line(tokens[-1]):  # cut by the limit: a newline closes it, outside the span
            assert len(tokens) == LIMIT and rationale.context[rationale.span[1]:] == policy.line_end
        with torch.no_grad():
            spent, log_probs = policy.log_probs_after(rationale)
            naive = naive_continuation_logprobs(policy.lm, rationale.context, policy.continuations, policy.pad_id)
            torch.testing.assert_close(spent, naive_span_logprob(policy, rationale.context, rationale.span),
                                       atol=1e-4, rtol=1e-5)
        torch.testing.assert_close(log_probs, torch.log_softmax(naive / 2.0, -1), atol=1e-4, rtol=1e-5)
        assert float(spent) < 0


def test_greedy_decisions_are_deterministic_and_carry_the_rationales_log_probability(tiny_causal_lm, items):
    policy = lm_router(tiny_causal_lm, rationale_tokens=LIMIT)
    decisions = policy.route_items(items)
    assert decisions == policy.route_items(items)
    for item, decision in zip(items, decisions, strict=True):
        rationale = policy.rationale(policy.prompt_ids(item))
        with torch.no_grad():
            spent, log_probs = policy.log_probs_after(rationale)
        best = int(log_probs.argmax())
        assert decision.tools == policy.actions.subsets[best]
        assert decision.log_prob == pytest.approx(float(spent) + float(log_probs[best]), abs=1e-5)
    np.testing.assert_allclose(policy.distribution(items).sum(axis=1), 1.0, atol=1e-5)


def test_reasoning_before_routing_trains_the_rationale_and_the_choice(tiny_causal_lm, items):
    policy = lm_router(tiny_causal_lm, rationale_tokens=4, lm_temperature=20.0)
    target = policy.actions.subsets.index(("tempo",))
    prompts = [policy.prompt_ids(item) for item in items]
    before = policy.distribution(items)[:, target].mean()
    optimizer = torch.optim.Adam(policy.trainable_parameters(), lr=3e-2)
    rng = np.random.default_rng(0)
    groups = sample_groups(policy, prompts[:2], 4, rng)
    assert all(len(g.rationales) == 4 for g in groups)  # one rationale per sample
    # the sampling policy's log-probabilities are the learner's at the start: every ratio is 1
    _, stats = group_loss(policy, with_advantages(groups, [[1.0, 0.0, 0.0, 0.0]] * 2), clip=0.2, entropy_coeff=0.0)
    assert stats["clip_fraction"] == 0.0
    # the rationale's own log-probability carries gradient to the adapter
    spent, _ = policy.log_probs_after(groups[0].rationales[0])
    policy.adapted.zero_grad()
    spent.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in policy.trainable_parameters())
    policy.adapted.zero_grad()
    for _ in range(2):
        groups = sample_groups(policy, prompts, 4, rng)
        groups = with_advantages(groups, [[float(a == target) for a in g.actions] for g in groups])
        update(policy, optimizer, groups, epochs=2, minibatch_items=2, clip=0.2, entropy_coeff=0.0, rng=rng)
    after = policy.distribution(items)[:, target].mean()
    assert after > before + 0.003, (before, after)


def test_refusals(tiny_causal_lm, items):
    with pytest.raises(ConfigError, match="router.rationale_tokens must be >= 0"):
        RouterConfig(rationale_tokens=-1).validate()
    policy = lm_router(tiny_causal_lm, rationale_tokens=10**6)  # the rationale counts against the context
    with pytest.raises(ValueError, match=f"item {items[0].id}: the routing prompt needs"):
        policy.prompt_ids(items[0])


def test_an_update_backpropagates_one_forward_at_a_time_to_the_same_step(tiny_causal_lm, items):
    """update() backpropagates each forward's share of the loss before the next forward (one
    graph in memory, not G): the step equals one backward of group_loss's whole L."""
    one, whole = (lm_router(tiny_causal_lm, rationale_tokens=4, lm_temperature=5.0) for _ in range(2))
    groups = sample_groups(one, [one.prompt_ids(item) for item in items[:2]], 3, np.random.default_rng(1))
    groups = with_advantages(groups, [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    for policy in (one, whole):  # a fresh adapter's B is zero: give both the same non-zero start
        with torch.no_grad():
            torch.manual_seed(5)
            for parameter in policy.trainable_parameters():
                parameter.normal_(std=0.1)
    start = [p.detach().clone() for p in one.trainable_parameters()]
    sgd = torch.optim.SGD(one.trainable_parameters(), lr=0.5)
    update(one, sgd, groups, epochs=1, minibatch_items=2, clip=0.2, entropy_coeff=0.1, rng=np.random.default_rng(0))
    loss, _ = group_loss(whole, groups, clip=0.2, entropy_coeff=0.1)
    loss.backward()
    with torch.no_grad():
        for parameter in whole.trainable_parameters():
            parameter -= 0.5 * parameter.grad
    for mine, theirs in zip(one.trainable_parameters(), whole.trainable_parameters(), strict=True):
        torch.testing.assert_close(mine, theirs, atol=1e-6, rtol=1e-5)
    assert any(not torch.equal(p, q) for p, q in zip(one.trainable_parameters(), start, strict=True))  # it moved
