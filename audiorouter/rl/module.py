"""The router as an RLlib RLModule (new API stack) around the plain ``RouterNet``.

The policy is ``self.router`` (a ``RouterNet``: features -> action logits); PPO's value
baseline is a separate small MLP ``self.critic``. Only ``router`` is needed for
inference: ``router_net_state(module_state)`` extracts its weights.

model_config keys: ``num_logits``, ``hidden_sizes``, ``action_kind`` ("subsets" or
"per_tool"), ``feature_mean``/``feature_std`` (standardisation of the features).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from ray.rllib.core.columns import Columns
from ray.rllib.core.distribution.torch.torch_distribution import TorchCategorical, TorchMultiCategorical
from ray.rllib.core.rl_module.apis.value_function_api import ValueFunctionAPI
from ray.rllib.core.rl_module.torch import TorchRLModule

from audiorouter.router.policy import RouterNet, mlp

ROUTER_PREFIX = "router."


class RouterRLModule(TorchRLModule, ValueFunctionAPI):
    """obs = router features; action dist inputs = ``RouterNet`` logits."""

    def setup(self) -> None:
        cfg = self.model_config
        in_dim = int(self.observation_space.shape[0])
        hidden = list(cfg.get("hidden_sizes", [64]))
        self.router = RouterNet(
            in_dim, int(cfg["num_logits"]), hidden, cfg.get("feature_mean"), cfg.get("feature_std")
        )
        self.critic = mlp(in_dim, hidden, 1)
        if cfg.get("action_kind", "subsets") == "per_tool":
            n_tools = int(cfg["num_logits"]) // 2
            self.action_dist_cls = TorchMultiCategorical.get_partial_dist_cls(input_lens=[2] * n_tools)
        else:
            self.action_dist_cls = TorchCategorical

    def _forward(self, batch: dict[str, Any], **kwargs) -> dict[str, Any]:
        return {Columns.ACTION_DIST_INPUTS: self.router(batch[Columns.OBS])}

    def compute_values(self, batch: dict[str, Any], embeddings: Any = None) -> torch.Tensor:
        return self.critic(self.router.normalise(batch[Columns.OBS])).squeeze(-1)


def router_net_state(module_state: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The ``RouterNet`` state dict inside an RLModule state (numpy or torch values)."""
    return {
        key[len(ROUTER_PREFIX):]: torch.as_tensor(np.array(value))
        for key, value in module_state.items()
        if key.startswith(ROUTER_PREFIX)
    }
