"""Group-relative learner: a critic-free policy gradient whose baseline is the group.

The environment gives G consecutive sub-environments the same item and tags their
episodes with one ``group_id`` (see ``RouterEnvSpec.group_size``). Before the update,
``GroupRelativeAdvantages`` (a learner connector) turns each episode's reward into an
advantage normalised within its group; ``GroupRelativeTorchLearner`` then minimises a
clipped surrogate on those advantages. It plugs into RLlib's PPO algorithm as its
``learner_class`` (registered as ``group_relative``, ``rl.registry``; sampling,
minibatching, epochs and weight sync are PPO's).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import torch
from ray.rllib.connectors.connector_v2 import ConnectorV2
from ray.rllib.core import DEFAULT_MODULE_ID
from ray.rllib.core.columns import Columns
from ray.rllib.core.learner.learner import ENTROPY_KEY, POLICY_LOSS_KEY
from ray.rllib.core.learner.torch.torch_learner import TorchLearner
from ray.rllib.evaluation.postprocessing import Postprocessing

GROUP_EPS = 1e-4  # keeps A finite when a group's rewards barely differ


def group_advantages(rewards: np.ndarray, groups: list[str], eps: float = GROUP_EPS) -> np.ndarray:
    """A_i = (r_i - mean_g r) / (std_g r + eps) over the samples i of each group g.

    ``std`` is the population standard deviation; a group whose rewards are all equal
    (or that holds one sample) gives advantages of 0: it carries no signal.
    """
    rewards = np.asarray(rewards, dtype=np.float64)
    members: dict[str, list[int]] = defaultdict(list)
    for i, group in enumerate(groups):
        members[group].append(i)
    advantages = np.zeros_like(rewards)
    for rows in members.values():
        r = rewards[rows]
        advantages[rows] = (r - r.mean()) / (r.std() + eps)
    return advantages.astype(np.float32)


class GroupRelativeAdvantages(ConnectorV2):
    """Learner connector: writes ``Postprocessing.ADVANTAGES`` from episode groups.

    Needs one-step episodes whose last info holds ``group_id``; batch rows follow the
    order of the episodes (as RLlib's default learner connectors build them).
    """

    def __call__(self, *, rl_module: Any, batch: dict[str, Any], episodes: list[Any], **kwargs) -> Any:
        rewards: dict[str, list[float]] = defaultdict(list)
        groups: dict[str, list[str]] = defaultdict(list)
        for episode in self.single_agent_episode_iterator(episodes, agents_that_stepped_only=False):
            if len(episode) != 1:
                raise ValueError(f"group-relative learning needs one-step episodes, got length {len(episode)}")
            module_id = episode.module_id or DEFAULT_MODULE_ID
            rewards[module_id].append(float(episode.get_return()))
            groups[module_id].append(str(episode.get_infos(-1)["group_id"]))
        for module_id, module_rewards in rewards.items():
            if module_id not in batch:
                continue
            device = next(rl_module[module_id].parameters()).device
            advantages = group_advantages(np.array(module_rewards), groups[module_id])
            batch[module_id][Postprocessing.ADVANTAGES] = torch.as_tensor(advantages, device=device)
        return batch


class GroupRelativeTorchLearner(TorchLearner):
    """RLlib TorchLearner with the group-relative loss (no value function, no KL term)."""

    def build(self) -> None:
        super().build()
        if self._learner_connector is not None and self.config.add_default_connectors_to_learner_pipeline:
            self._learner_connector.append(GroupRelativeAdvantages())

    def configure_optimizers_for_module(self, module_id: str, config: Any = None) -> None:
        """Adam over the router only: the module's critic gets no gradient here."""
        params = self.get_parameters(self._module[module_id].unwrapped().router)
        self.register_optimizer(
            module_id=module_id, optimizer=torch.optim.Adam(params), params=params, lr_or_lr_schedule=config.lr
        )

    def compute_loss_for_module(self, *, module_id: str, config: Any, batch: dict, fwd_out: dict) -> torch.Tensor:
        r"""Clipped group-relative policy-gradient loss of one minibatch B.

        For the G routing samples a_i of one item x in group g, with rewards r_i:

            A_i   = (r_i - mean_g r) / (std_g r + eps)                (connector)
            rho_i = pi_theta(a_i | x_i) / pi_old(a_i | x_i)           (pi_old: sampling policy)
            L     = -1/|B| sum_i min(rho_i A_i, clip(rho_i, 1 - c, 1 + c) A_i)
                    - beta * 1/|B| sum_i H(pi_theta(. | x_i))

        with c = ``config.clip_param`` and beta = ``config.entropy_coeff``. The group
        mean replaces PPO's learned value baseline; no critic is trained.
        """
        module = self.module[module_id].unwrapped()
        dist = module.get_train_action_dist_cls().from_logits(fwd_out[Columns.ACTION_DIST_INPUTS])
        advantages = batch[Postprocessing.ADVANTAGES]
        ratio = torch.exp(dist.logp(batch[Columns.ACTIONS]) - batch[Columns.ACTION_LOGP])
        clipped = torch.clamp(ratio, 1 - config.clip_param, 1 + config.clip_param)
        surrogate = torch.min(ratio * advantages, clipped * advantages).mean()
        entropy = dist.entropy().mean()
        self.metrics.log_dict(
            {
                POLICY_LOSS_KEY: -surrogate,
                ENTROPY_KEY: entropy,
                "informative_fraction": (advantages != 0).float().mean(),
                "clip_fraction": ((ratio - 1).abs() > config.clip_param).float().mean(),
            },
            key=module_id,
            window=1,
        )
        return -surrogate - float(config.entropy_coeff) * entropy
