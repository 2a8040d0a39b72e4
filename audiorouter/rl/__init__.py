"""Router training with RLlib: the one-step routing env, the rewards and learners registries
(light, no Ray), the RLlib module, learners, metrics and ``RouterTrainer``.
Imports ``router``, ``features``, ``outcomes``, ``config``, ``registry`` and ``contracts``.
"""

from audiorouter.rl.registry import register_learner

# The built-in learners are registered here: the package runs first whenever any of its
# modules is imported. Each imports its RLlib class only when a trainer asks for it.


@register_learner("ppo")
def ppo_learner() -> type:
    """RLlib's PPO learner: clipped surrogate with a value baseline (GAE)."""
    from ray.rllib.algorithms.ppo.torch.ppo_torch_learner import PPOTorchLearner

    return PPOTorchLearner


@register_learner("group_relative")
def group_relative_learner() -> type:
    """Group-relative advantages, no value function (``group_relative``)."""
    from audiorouter.rl.group_relative import GroupRelativeTorchLearner

    return GroupRelativeTorchLearner
