"""The plain torch router: logits, greedy routing with log-probs, save and load."""

from __future__ import annotations

import numpy as np
import torch

from audiorouter.features import FeatureSpec
from audiorouter.router.actions import ActionSpace
from audiorouter.router.policy import RouterNet, RouterPolicy, feature_stats

TOOLS = ("pitch", "onsets", "tempo")


def _policy(kind: str, seed: int = 0) -> tuple[RouterPolicy, np.ndarray]:
    torch.manual_seed(seed)
    x = np.random.default_rng(seed).normal(3.0, 2.0, size=(10, 5)).astype(np.float32)
    actions = ActionSpace(TOOLS, kind, max_tools=2)
    mean, std = feature_stats(x)
    net = RouterNet(5, actions.num_logits, (8,), mean, std)
    for p in net.parameters():  # away from the near-uniform start, so routing differs per row
        torch.nn.init.normal_(p, std=1.0)
    return RouterPolicy(net, actions, FeatureSpec(), (8,)), x


def test_net_standardises_its_input_with_fitted_buffers():
    policy, x = _policy("subsets")
    z = policy.net.normalise(torch.as_tensor(x))
    np.testing.assert_allclose(z.mean(0).numpy(), 0.0, atol=1e-5)
    assert policy.logits(x).shape == (10, policy.actions.num_logits)


def test_a_fresh_net_routes_near_uniformly():
    actions = ActionSpace(TOOLS, "subsets", max_tools=2)
    net = RouterNet(5, actions.num_logits, (8,))
    probs = torch.softmax(net(torch.randn(4, 5)), -1)
    assert torch.allclose(probs, torch.full_like(probs, 1 / actions.num_logits), atol=0.02)


def test_route_gives_greedy_decisions_with_log_probs():
    for kind in ("subsets", "per_tool"):
        policy, x = _policy(kind)
        decisions = policy.route(x, [f"i{k}" for k in range(10)])
        assert [d.tools for d in decisions] == policy.actions.greedy(policy.logits(x))
        logits = torch.as_tensor(policy.logits(x))
        for row, decision in zip(logits, decisions, strict=True):
            if kind == "subsets":
                expected = torch.log_softmax(row, -1).max()
            else:
                expected = torch.log_softmax(row.reshape(-1, 2), -1).max(-1).values.sum()
            assert abs(decision.log_prob - float(expected)) < 1e-5


def test_save_and_load_round_trip(tmp_path):
    policy, x = _policy("per_tool")
    policy.save(tmp_path / "policy")
    loaded = RouterPolicy.load(tmp_path / "policy")
    np.testing.assert_allclose(loaded.logits(x), policy.logits(x), rtol=1e-6)
    assert loaded.actions == policy.actions
    assert loaded.feature_spec == policy.feature_spec
