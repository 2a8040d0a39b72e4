"""The router and train config sections, and picking exactly train_size items."""

from __future__ import annotations

import pytest

from audiorouter.config import ConfigError, load_config
from audiorouter.contracts import AudioQAItem
from audiorouter.rl.registry import check_train
from audiorouter.rl.trainer import pick_training_items


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


def _items(task_counts: dict[str, int]) -> list[AudioQAItem]:
    return [AudioQAItem(f"{task}-{k}", "q?", ["a", "b"], "a", task, "c", "s", "easy", "synth")
            for task, n in task_counts.items() for k in range(n)]


def test_training_items_are_exact_unique_balanced_and_reproducible():
    items = _items({"tempo": 10, "pitch": 10, "count": 2})
    picked = pick_training_items(items + items[:3], 9, seed=0)  # duplicates are ignored
    assert len(picked) == len({i.id for i in picked}) == 9
    tasks = [i.task for i in picked]
    assert tasks.count("count") == 2 and tasks.count("tempo") >= 3 and tasks.count("pitch") >= 3
    assert [i.id for i in pick_training_items(items, 9, seed=0)] == [i.id for i in picked]
    assert [i.id for i in pick_training_items(items, 9, seed=1)] != [i.id for i in picked]
    with pytest.raises(ValueError, match="only 22 unique items"):
        pick_training_items(items, 23, seed=0)
