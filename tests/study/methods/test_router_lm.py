"""router-lm as a study method, on a tiny random causal LM against the reference reasoner
(answered in this process): its N=0 trial is the prompted router, the same for every seed
and read as the prompted-router constant line; a trained trial moves the adapter, counts
the reasoner calls its training caused, and is scored on every split."""

from __future__ import annotations

import json

import numpy as np
import pytest

from audiorouter.config import ConfigError, load_config
from audiorouter.data.items import write_items
from audiorouter.data.synth import make_item
from audiorouter.router.loading import load_router
from audiorouter.study import methods
from audiorouter.study.context import StudyContext, TrialSpec
from audiorouter.study.dataset import StudyData
from audiorouter.study.results import TrialResult, prompted_line
from audiorouter.study.targets import PROMPTED_LINE, TRAINING_FREE

TOOLS = ["tempo", "loudness"]


@pytest.fixture(scope="module")
def context(tiny_causal_lm, tmp_path_factory):
    root = tmp_path_factory.mktemp("router_lm_study")
    families = ["tempo", "loudness_compare"]
    pool = [make_item(f, i, seed=11) for i in range(4) for f in families]
    test = [make_item(f, i, seed=12) for i in range(3) for f in families]
    reworded = [make_item(f, i, seed=13) for i in range(2) for f in families]
    for split, items in (("pool", pool), ("test", test), ("reworded", reworded)):
        write_items(items, root / "items", split)
    ids = [i.id for i in pool]
    data = StudyData(root / "items", families, {0: ids, 1: ids[::-1]}, [], [i.id for i in test],
                     {i.id: i.task for i in pool + test + reworded}, ["lineage"], len(pool),
                     ood_ids={"reworded": [i.id for i in reworded]}, router_orders={0: ids, 1: ids[::-1]})
    cfg = load_config(overrides=[
        "run.use_actors=false", f"tools.cache_dir={root / 'tool_cache'}", "reasoner.backend=reference",
        f"router.lm_model={tiny_causal_lm}", "router.lm_device=cpu", "router.lm_dtype=float32",
        "router.lm_temperature=50",  # the random LM all but always names the shortest reply: spread its samples
        "router.max_tools_per_call=2", "train.group_size=2", "train.train_batch_size=8", "train.minibatch_size=8", "train.num_envs_per_env_runner=8",
        "train.num_epochs=1", "train.algorithm=ppo", "study.episodes_per_item=4", "study.min_iterations=2",
        "study.methods=[router-ppo,router-lm]"])
    return StudyContext(cfg, data, TOOLS, str(root / "study"))


def run_trial(context, size: int, seed: int, folder):
    folder.mkdir(parents=True)
    correct, info = methods.train_and_score(TrialSpec("router-lm", size, seed), context, folder)
    return correct, info


def as_result(context, size: int, seed: int, correct: dict, info: dict) -> TrialResult:
    data = context.data
    ood = {"reworded": {"item_ids": data.ood_ids["reworded"], "tasks": [data.tasks[i] for i in data.ood_ids["reworded"]],
                        "correct": correct["reworded"]}}
    return TrialResult("router-lm", size, seed, data.test_ids, [data.tasks[i] for i in data.test_ids],
                       correct["test"], 0.0, info, ood)


def test_the_untrained_trial_is_the_prompted_router_for_every_seed(context, tmp_path):
    runs = {seed: run_trial(context, 0, seed, tmp_path / f"seed{seed}") for seed in (0, 1)}
    (correct, info), (other, _) = runs[0], runs[1]
    assert set(correct) == {"test", "reworded"} and len(correct["test"]) == 6 and len(correct["reworded"]) == 4
    assert info["untrained"] and info["training_cost"] == {"reasoner_calls": 0, "tool_runs": 0}
    assert 0 <= info["mean_tools"] <= 2 and 0 <= info["reworded_mean_tools"] <= 2
    assert other == correct  # nothing of it depends on the seed
    saved = json.loads((tmp_path / "seed0" / "policy" / "policy.json").read_text())
    assert saved["backend"] == "lm"

    results = [as_result(context, 0, seed, *runs[seed]) for seed in (0, 1)]
    line = prompted_line(results)
    assert line.method == PROMPTED_LINE and line.train_size == 0 and line.seed == 0
    assert line.correct == correct["test"] and line.on_split("reworded").correct == correct["reworded"]
    assert line.info["mean_tools"] == info["mean_tools"]
    assert PROMPTED_LINE in TRAINING_FREE  # it can set the targets
    assert prompted_line([r for r in results if r.method != "router-lm"]) is None


def test_seeds_that_route_differently_are_no_constant_line(context):
    data = context.data
    tasks = [data.tasks[i] for i in data.test_ids]
    one = TrialResult("router-lm", 0, 0, data.test_ids, tasks, [True] * 6)
    other = TrialResult("router-lm", 0, 1, data.test_ids, tasks, [False] * 6)
    with pytest.raises(ValueError, match="router-lm's untrained trials .* differ"):
        prompted_line([one, other])


def test_a_trained_trial_moves_the_adapter_counts_its_calls_and_scores_every_split(context, tmp_path):
    correct, info = run_trial(context, 4, 0, tmp_path / "trained")
    assert set(correct) == {"test", "reworded"} and len(correct["test"]) == 6
    assert info["iterations"] == 2 and info["episodes"] == 16  # 4 items x 2 samples per iteration
    cost = info["training_cost"]
    assert 0 < cost["reasoner_calls"] <= 4 * 7 and cost["tool_runs"] > 0  # at most every (item, subset) of 4 items
    trained = load_router(tmp_path / "trained" / "policy")
    items = context.items(context.data.test_ids, ("test",))
    with trained.adapted.disable_adapter():
        prompted = trained.distribution(items)
    assert not np.allclose(trained.distribution(items), prompted, atol=1e-6)


def test_the_study_refuses_a_router_lm_it_cannot_train():
    with pytest.raises(ConfigError, match="router-lm learns group-relatively: train.group_size must be >= 2"):
        methods.check_study(load_config(overrides=["study.methods=[router-ppo,router-lm]", "train.group_size=1"]))
    with pytest.raises(ConfigError, match="router-lm needs router.lm_model"):
        methods.check_study(load_config(overrides=["study.methods=[router-ppo,router-lm]", "router.lm_model="]))
