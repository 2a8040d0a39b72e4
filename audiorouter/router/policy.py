"""The router policy as a plain torch module, usable without RLlib.

``RouterNet`` maps a feature vector to one logit per action component (see
``ActionSpace.num_logits``); it standardises its input with buffers fitted on the
training features, so the saved state is all inference needs. ``RouterPolicy`` wraps
a net with its action space and feature spec: greedy routing, save and load.

    policy = RouterPolicy.load("runs/router/policy")
    decisions = policy.route(featurize(items, policy.feature_spec).matrix(), [i.id for i in items])
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from audiorouter.contracts import AudioQAItem, RoutingDecision
from audiorouter.features import FeatureSpec, featurize, request_features
from audiorouter.router.actions import ActionSpace


def mlp(in_dim: int, hidden_sizes: Sequence[int], out_dim: int, out_gain: float = 1.0) -> nn.Sequential:
    """Linear+Tanh layers, then a linear output layer initialised with ``out_gain``."""
    layers: list[nn.Module] = []
    width = in_dim
    for size in hidden_sizes:
        layers += [nn.Linear(width, size), nn.Tanh()]
        width = size
    out = nn.Linear(width, out_dim)
    nn.init.orthogonal_(out.weight, gain=out_gain)
    nn.init.zeros_(out.bias)
    return nn.Sequential(*layers, out)


class RouterNet(nn.Module):
    """features (B, in_dim) -> action logits (B, num_logits)."""

    def __init__(
        self,
        in_dim: int,
        num_logits: int,
        hidden_sizes: Sequence[int] = (64,),
        feature_mean: Sequence[float] | None = None,
        feature_std: Sequence[float] | None = None,
    ) -> None:
        super().__init__()
        mean = torch.zeros(in_dim) if feature_mean is None else torch.as_tensor(feature_mean, dtype=torch.float32)
        std = torch.ones(in_dim) if feature_std is None else torch.as_tensor(feature_std, dtype=torch.float32)
        self.register_buffer("feature_mean", mean)
        self.register_buffer("feature_std", std.clamp_min(1e-3))
        self.body = mlp(in_dim, hidden_sizes, num_logits, out_gain=0.01)  # near-uniform at start

    def normalise(self, features: torch.Tensor) -> torch.Tensor:
        return (features - self.feature_mean) / self.feature_std

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.body(self.normalise(features))


def feature_stats(features: np.ndarray) -> tuple[list[float], list[float]]:
    """Per-column mean and std of a (N, D) training matrix, for ``RouterNet``."""
    return features.mean(axis=0).tolist(), features.std(axis=0).tolist()


@dataclass
class RouterPolicy:
    """A trained router: net + action space + the features it reads."""

    net: RouterNet
    actions: ActionSpace
    feature_spec: FeatureSpec
    hidden_sizes: tuple[int, ...]

    def logits(self, features: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return self.net(torch.as_tensor(features, dtype=torch.float32)).numpy()

    def route(self, features: np.ndarray, item_ids: Sequence[str]) -> list[RoutingDecision]:
        """Greedy routing: the most likely tool tuple per row, with its log-probability."""
        logits = self.logits(features)
        chosen = self.actions.greedy(logits)
        return [
            RoutingDecision(item_id, tools, float(self._log_prob(row, tools)))
            for item_id, tools, row in zip(item_ids, chosen, logits, strict=True)
        ]

    def route_items(self, items: Sequence[AudioQAItem], cache_dir: str | None = None) -> list[RoutingDecision]:
        """Greedy decisions for ``items``, their features computed (or read from ``cache_dir``)."""
        ids = [item.id for item in items]
        features = featurize(list(items), self.feature_spec, cache_dir)
        return self.route(features.select(ids).matrix(), ids)

    def route_clips(self, waveforms: Sequence[np.ndarray], questions: Sequence[str], choices: Sequence[list[str]],
                    ids: Sequence[str]) -> list[RoutingDecision]:
        """Greedy decisions for online requests (the choices are not among this router's features)."""
        return self.route(request_features(waveforms, questions, self.feature_spec), ids)

    def training_free_lines(self) -> dict:
        """Policies that need no training, reported beside this one (the LM router's
        prompted self; none for the MLP, whose untrained net routes at random)."""
        return {}

    def _log_prob(self, logits: np.ndarray, tools: tuple[str, ...]) -> float:
        row = torch.as_tensor(logits)
        if self.actions.kind == "subsets":
            return float(torch.log_softmax(row, -1)[self.actions.to_action(tools)])
        switches = torch.as_tensor(self.actions.to_action(tools))
        per_tool = torch.log_softmax(row.reshape(-1, 2), -1)
        return float(per_tool.gather(1, switches[:, None]).sum())

    def save(self, directory: str | Path) -> Path:
        """``policy.pt`` (the net's state) and ``policy.json`` (what it routes and reads)."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        torch.save(self.net.state_dict(), out / "policy.pt")
        spec = {
            "actions": self.actions.to_dict(),
            "features": self.feature_spec.to_dict(),
            "hidden_sizes": list(self.hidden_sizes),
            "in_dim": int(self.net.feature_mean.shape[0]),
        }
        (out / "policy.json").write_text(json.dumps(spec, indent=2))
        return out

    @classmethod
    def load(cls, directory: str | Path) -> RouterPolicy:
        src = Path(directory)
        spec = json.loads((src / "policy.json").read_text())
        actions = ActionSpace.from_dict(spec["actions"])
        net = RouterNet(spec["in_dim"], actions.num_logits, spec["hidden_sizes"])
        net.load_state_dict(torch.load(src / "policy.pt", weights_only=True))
        net.eval()
        return cls(net, actions, FeatureSpec(**spec["features"]), tuple(spec["hidden_sizes"]))


def policy_dir(path: str | Path) -> Path:
    """The policy folder at ``path``: a checkpoint folder holding ``policy/``, or the policy folder itself."""
    folder = Path(path)
    if (folder / "policy" / "policy.json").exists():
        return folder / "policy"
    if (folder / "policy.json").exists():
        return folder
    raise FileNotFoundError(f"no router policy under {folder} (expected policy.json or policy/policy.json)")
