"""The LM router's trainer on a tiny random LM: the reward source scores each sampled
subset, the rewarded subset gains probability, and a run saved and restored continues
exactly as the run that never stopped (adapter, optimiser, item order, sampling RNG)."""

from __future__ import annotations

import numpy as np
import pytest
from lm_router_helpers import TOOLS, TempoPays, tempo_training

from audiorouter.data.synth import make_item
from audiorouter.rl.lm_trainer import CHECKPOINT_FILES, LMRouterTrainer


@pytest.fixture(scope="module")
def items():
    return [make_item("tempo", i, seed=4) for i in range(6)]


def trainer(model: str, items) -> tuple[LMRouterTrainer, TempoPays]:
    train, router = tempo_training(model, len(items))
    source = TempoPays()
    return LMRouterTrainer(train, router, TOOLS, items, source), source


def tempo_probability(run: LMRouterTrainer, items) -> np.ndarray:
    return run.policy().distribution(items)[:, run.actions.subsets.index(("tempo",))]


def test_training_raises_the_rewarded_subset_and_counts_what_it_asked(tiny_causal_lm, items):
    run, source = trainer(tiny_causal_lm, items)
    before = tempo_probability(run, items)
    history = run.train(3)
    assert np.all(tempo_probability(run, items) > before + 0.003)
    assert [m.iteration for m in history] == [1, 2, 3] and all(m.episodes == 16 for m in history)
    assert len(source.asked) == 48 and history[-1].source_stats == {"reasoner_calls": 16.0}
    # every item visited before any repeats: 12 draws over 6 items
    assert history[1].unique_items_seen == 6
    assert history[-1].mean_reward == pytest.approx(sum(s == ("tempo",) for _, s in source.asked[-16:]) / 16)


def test_a_restored_run_continues_as_the_run_that_never_stopped(tiny_causal_lm, items, tmp_path):
    straight, _ = trainer(tiny_causal_lm, items)
    straight.train(2)
    stopped, _ = trainer(tiny_causal_lm, items)
    stopped.train(1)
    saved = stopped.save(tmp_path / "iter-1")
    assert all((saved / name).exists() for name in CHECKPOINT_FILES)
    resumed, source = trainer(tiny_causal_lm, items)
    resumed.restore(saved)
    assert resumed.iteration == 1
    resumed.train(1)
    np.testing.assert_allclose(tempo_probability(resumed, items), tempo_probability(straight, items), atol=1e-6)
