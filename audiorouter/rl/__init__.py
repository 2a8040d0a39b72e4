"""Router training: the one-step routing env, the rewards, learners and router back-end
registries (light, no Ray), the RLlib module, learners, metrics and ``RouterTrainer`` (the
MLP router, on RLlib), and ``LMRouterTrainer`` (the LM router, lm_trainer.py).
Imports ``router``, ``features``, ``outcomes``, ``config``, ``registry`` and ``contracts``.
"""

from audiorouter.rl.registry import TrainerBackend, register_learner, register_router_backend

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


@register_router_backend("mlp")
def mlp_backend() -> TrainerBackend:
    """The MLP over the router's features, trained by RLlib (``RouterTrainer``)."""
    from audiorouter.rl.trainer import CHECKPOINT_FILES, build_router_trainer

    return TrainerBackend(build_router_trainer, CHECKPOINT_FILES)


@register_router_backend("lm")
def lm_backend() -> TrainerBackend:
    """The router LM with a LoRA adapter, trained group-relatively (``LMRouterTrainer``)."""
    from audiorouter.rl.lm_trainer import CHECKPOINT_FILES, LMRouterTrainer, check_lm_training
    from audiorouter.rl.lm_trainer_actor import RemoteLMRouterTrainer

    def build(train, router, tools, items, reward_source, feature_cache_dir):
        trainer = RemoteLMRouterTrainer if router.num_gpus > 0 else LMRouterTrainer  # on an actor with GPUs
        return trainer(train, router, tools, items, reward_source)

    return TrainerBackend(build, CHECKPOINT_FILES, check_lm_training)
