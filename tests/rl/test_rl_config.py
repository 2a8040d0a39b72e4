"""The router and train config sections, and picking exactly train_size items."""

from __future__ import annotations

import subprocess
import sys

import pytest

from audiorouter.config import ConfigError, load_config
from audiorouter.rl.registry import check_train


def test_defaults_validate_and_overrides_apply():
    cfg = load_config(None, ["train.algorithm=group_relative", "router.action_space=per_tool", "train.lr=0.01"])
    assert cfg.train.algorithm == "group_relative" and cfg.router.action_space == "per_tool"
    assert cfg.train.lr == 0.01


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.algorithm=bandit", "valid: ppo, group_relative"),
        ("train.reward=bleu", "valid: relative, absolute"),
        ("router.action_space=multibinary", "'subsets' or 'per_tool'"),
        ("train.train_batch_size=100", "multiple of num_env_runners"),
        ("train.minibatch_size=512", "minibatch_size"),
        ("train.num_envs_per_env_runner=6", "multiple of train.group_size"),
        ("train.num_learners=2", "num_learners must be <= 1"),
        ("train.group_size=1", "group_size must be >= 2"),
        ("router.hidden_sizes=[]", "hidden_sizes"),
        ("train.tool_cost_weight=-1", "tool_cost_weight must be >= 0"),
        ("train.sample_timeout_s=0", "sample_timeout_s must be > 0"),
    ],
)
def test_invalid_values_name_what_is_allowed(override, message):
    overrides = [override]
    if override.startswith(("train.num_envs", "train.num_learners", "train.group_size")):
        overrides.append("train.algorithm=group_relative")
    with pytest.raises(ConfigError, match=message):
        check_train(load_config(None, overrides).train)  # registry names are checked by their owner


def test_the_learner_registry_names_learners_without_importing_rllib():
    """Each learner is registered by a function that imports its RLlib class when asked."""
    code = ("import sys; from audiorouter.rl.registry import learner_names; "
            "assert learner_names() == ['ppo', 'group_relative'], learner_names(); "
            "assert 'ray.rllib' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
