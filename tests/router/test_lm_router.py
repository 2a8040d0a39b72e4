"""The LM router on a tiny random causal LM: a distribution over the allowed subsets that
equals naive full-prompt scoring, greedy decisions that survive save and load, an
untrained router that is the bare LM, and the settings that are refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from lm_router_helpers import TOOLS, lm_router, question_items

from audiorouter.config import ConfigError, RouterConfig
from audiorouter.features import FeatureSpec
from audiorouter.router.actions import ActionSpace
from audiorouter.router.lm_policy import PROMPTED, LMRouterPolicy, check_lm_router
from audiorouter.router.lm_prompt import routing_prompt, subset_text
from audiorouter.router.lm_scoring import continuation_logprobs, naive_continuation_logprobs
from audiorouter.router.loading import prompted_lines
from audiorouter.router.policy import RouterNet, RouterPolicy


@pytest.fixture(scope="module")
def items():
    return question_items()


def test_subset_probabilities_sum_to_one_and_equal_naive_scoring(tiny_causal_lm, items):
    policy = lm_router(tiny_causal_lm, lm_temperature=2.0)
    probs = policy.distribution(items)
    assert probs.shape == (len(items), len(policy.actions.subsets))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    for item, row in zip(items, probs, strict=True):
        prompt = policy.prompt_ids(item)
        with torch.no_grad():
            shared = continuation_logprobs(policy.lm, prompt, policy.continuations, policy.pad_id)
            naive = naive_continuation_logprobs(policy.lm, prompt, policy.continuations, policy.pad_id)
        torch.testing.assert_close(shared, naive, atol=1e-4, rtol=1e-5)
        np.testing.assert_allclose(row, torch.softmax(naive / 2.0, -1).numpy(), atol=1e-5)
    # the prompt reads the question, its choices and each tool's description
    text = routing_prompt(policy.tokenizer, items[0].question, items[0].choices, policy.tool_info, "")
    assert items[0].question in text and all(c in text for c in items[0].choices)
    assert all(f"- {t['name']}: {t['description']}" in text for t in policy.tool_info)
    assert subset_text(()) == "tools: none" and subset_text(("pitch", "tempo")) == "tools: pitch, tempo"


def test_a_per_token_score_divides_each_reply_by_its_length(tiny_causal_lm, items):
    policy = lm_router(tiny_causal_lm, lm_temperature=2.0, lm_score="mean")
    prompt = policy.prompt_ids(items[0])
    with torch.no_grad():
        naive = naive_continuation_logprobs(policy.lm, prompt, policy.continuations, policy.pad_id)
    lengths = torch.tensor([float(len(c)) for c in policy.continuations])
    np.testing.assert_allclose(policy.distribution(items[:1])[0], torch.softmax(naive / lengths / 2.0, -1).numpy(),
                               atol=1e-5)
    assert len(set(lengths.tolist())) > 1  # replies differ in length: the two scores differ
    with pytest.raises(ConfigError, match="router.lm_score must be one of sum, mean"):
        RouterConfig(lm_score="max").validate()


def test_a_saved_adapter_reproduces_the_decisions(tiny_causal_lm, items, tmp_path):
    policy = lm_router(tiny_causal_lm, lm_temperature=0.5)
    with torch.no_grad():  # move the adapter away from its zero start, so it matters
        for parameter in policy.trainable_parameters():
            parameter.normal_(std=0.5)
    saved = policy.save(tmp_path / "policy")
    assert (saved / "adapter" / "adapter_model.safetensors").is_file()
    assert not list(saved.rglob("model.safetensors"))  # the adapter only: the LM is named, not copied
    loaded = LMRouterPolicy.load(saved)
    np.testing.assert_allclose(loaded.distribution(items), policy.distribution(items), atol=1e-6)
    assert loaded.route_items(items) == policy.route_items(items)
    # and the adapter is what they came from: a fresh one routes with another distribution
    assert not np.allclose(lm_router(tiny_causal_lm).distribution(items), policy.distribution(items), atol=1e-3)


def test_an_untrained_router_is_the_prompted_lm(tiny_causal_lm, items):
    """A new adapter has no effect: the untrained router's distribution is the bare LM's."""
    policy = lm_router(tiny_causal_lm)
    prompt = policy.prompt_ids(items[0])
    with torch.no_grad(), policy.adapted.disable_adapter():
        bare = torch.log_softmax(continuation_logprobs(policy.lm, prompt, policy.continuations, policy.pad_id), -1)
    np.testing.assert_allclose(policy.distribution(items[:1])[0], bare.exp().numpy(), atol=1e-6)


def test_settings_that_cannot_route_are_refused_before_loading(tiny_causal_lm, items):
    actions = ActionSpace(TOOLS, "subsets", max_tools=2)  # 7 subsets
    with pytest.raises(ConfigError, match="router.max_subsets_lm is 4.*7 subsets"):
        check_lm_router(RouterConfig(backend="lm", lm_model=tiny_causal_lm, max_subsets_lm=4), actions)
    with pytest.raises(ConfigError, match="router.lm_model '/no/such/model' is neither a packaged preset nor a local"):
        check_lm_router(RouterConfig(backend="lm", lm_model="/no/such/model"), actions)
    with pytest.raises(ConfigError, match="router.lm_model 'org/hub-model' is neither"):  # never a download
        check_lm_router(RouterConfig(backend="lm", lm_model="org/hub-model"), actions)
    for bad, match in [({"lm_temperature": 0}, "lm_temperature"), ({"backend": "lm", "lm_model": ""}, "router.lm_model")]:
        with pytest.raises(ConfigError, match=match):
            RouterConfig(**bad).validate()

    policy = lm_router(tiny_causal_lm)
    policy.context = 50  # a prompt over the context names the item
    with pytest.raises(ValueError, match=f"item {items[0].id}: the routing prompt needs"):
        policy.prompt_ids(items[0])


def test_an_mlp_router_is_reported_beside_the_prompted_lm_when_asked(tiny_causal_lm, items):
    """run.prompted_router: the prompted LM (router.lm_* settings, no adapter) routes the MLP
    router's own action space; an LM router brings its own prompted self instead."""
    actions = ActionSpace(TOOLS, "subsets", max_tools=2)
    spec = FeatureSpec()
    mlp = RouterPolicy(RouterNet(spec.dim, actions.num_logits, (8,)), actions, spec, (8,))
    lines = prompted_lines(RouterConfig(lm_model=tiny_causal_lm, lm_device="cpu", lm_dtype="float32"), mlp)
    assert list(lines) == [PROMPTED]
    decisions = lines[PROMPTED].route_items(items)
    torch.manual_seed(0)
    bare = LMRouterPolicy.build(RouterConfig(lm_model=tiny_causal_lm, lm_device="cpu", lm_dtype="float32"), actions)
    assert [d.tools for d in decisions] == [d.tools for d in bare.route_items(items)]  # the LM alone decides
    assert prompted_lines(RouterConfig(lm_model=tiny_causal_lm), bare) == {}
