"""The ``internalise-lalm`` baseline: the reasoner itself learns, through a LoRA adapter
(peft) on its text model, trained on the study's items; the lalm back-end (an audio LM)
or the cascade back-end (a text LM hearing a coarse description: ``lora_reasoners``).

    fitted = fit_reasoner_adapter(config.reasoner, train, val, seed=0)  # items with their audio
    picks = fitted.predict(test)            # chosen choice index per item
    fitted.info                             # adapter config, steps, validation per evaluation
    fitted.save("trial/adapter")            # peft's save_pretrained
    again = load_reasoner_adapter(config.reasoner, "trial/adapter")

What learns: LoRA (rank r, scale alpha / r, dropout on its input) on the projections
named by ``AdapterConfig.target_modules`` inside the text model only (an audio LM's
encoder has its own q_proj/v_proj; they stay frozen, like the embeddings, the head and
every base weight). The model reads exactly the reasoner's no-evidence prompt
(``training_example``) and learns the form the reasoner scores
(``ReasonerConfig.score_target``): the answer's letter, or the tokens of its choice
text ("text") or of letter and text ("letter_text"). With y_i those target tokens of
item i, the loss of a batch B is the teacher-forced cross-entropy

    loss = 1/|B| sum_i -1/|y_i| sum_t log p(y_i,t | prompt_i, y_i,<t)

which is also what the reasoner's own scores give for the answer (the letter's
log-probability, or the mean log-probability of the choice's tokens), so the
validation loss is read from the scores of the validation answers (with the cascade's
``calibration: content_free`` those scores are calibrated: the loss then only breaks
ties between evaluations of equal accuracy).

Training (``AdapterBudget``): AdamW on the adapter in shuffled batches; the validation
items are answered by the reasoner's own scoring path, adapter active, before the
first step and then every epoch (at least ``min_eval_every`` steps apart); the best
evaluation (accuracy, then loss) is kept; training stops after ``patience``
evaluations without a better one, or at ``max_steps``. One CPU thread on CPU,
deterministic for a seed. Meant for GPU clusters (``study.trial_gpus``); tests run it
on CPU with tiny random models.

The adapted model is another reasoner: its ``reasoner_id`` ends with a digest of the
adapter's weights, and no outcome memo is ever opened for it.

A study trial (``train_and_score``) reads its items with their audio, fits, saves the
adapter as ``adapter/`` in the trial folder and scores the test split; it needs none of
the features the internalisation heads read.

Imports: config, contracts, data, study.context, study.dataset, .lora_reasoners, .threads.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from audiorouter.config import ReasonerConfig
from audiorouter.contracts import AudioQAItem, ReasonerOutcome, ReasonerRequest
from audiorouter.data.audio_io import decode_item_audio
from audiorouter.study.context import StudyContext, TrialSpec
from audiorouter.study.dataset import load_items
from audiorouter.study.methods.lora_reasoners import (
    AdapterConfig,
    LoraAdapted,
    adapted_reasoner,
    check_reasoner,
)
from audiorouter.study.methods.threads import one_thread

ANSWER_CHUNK = 64  # items decoded and answered together (bounds the audio held at once)


@dataclass(frozen=True)
class AdapterBudget:
    batch_size: int = 8
    max_steps: int = 2000
    min_eval_every: int = 25  # steps: with fewer items than a batch, an epoch is one step
    patience: int = 4  # evaluations without a better one


@dataclass
class FittedAdapter:
    reasoner: LoraAdapted
    info: dict = field(default_factory=dict)

    def predict(self, items: Sequence[AudioQAItem]) -> list[int]:
        """The chosen choice index per item: the reasoner's no-evidence scoring, adapter active."""
        with _threads(self.reasoner):
            return [o.chosen_index for o in _answer(self.reasoner, items)]

    def evaluate(self, items: Sequence[AudioQAItem]) -> tuple[float, float]:
        """(accuracy, mean cross-entropy of the answers) on ``items``."""
        with _threads(self.reasoner):
            return _evaluate(self.reasoner, items)

    def save(self, folder: str | Path) -> Path:
        """The adapter alone (peft's adapter_config.json and weights) into ``folder``."""
        self.reasoner.peft.save_pretrained(str(folder))
        return Path(folder)


def fit_reasoner_adapter(
    reasoner_config: ReasonerConfig, train_items: Sequence[AudioQAItem], val_items: Sequence[AudioQAItem],
    seed: int, budget: AdapterBudget | None = None, adapter: AdapterConfig | None = None,
) -> FittedAdapter:
    """Load the reasoner once, add a LoRA adapter and train it on ``train_items``,
    keeping the best evaluation on ``val_items`` (items with their audio)."""
    check_reasoner(reasoner_config)
    if not train_items or not val_items:
        raise ValueError(f"internalise-lalm: needs training and validation items "
                         f"(got {len(train_items)} and {len(val_items)})")
    budget, adapter = budget or AdapterBudget(), adapter or AdapterConfig()
    began = time.perf_counter()
    reasoner = adapted_reasoner(reasoner_config, adapter, seed)
    with _threads(reasoner):
        run = _train(reasoner, list(train_items), list(val_items), adapter, budget, seed)
    batches = math.ceil(len(train_items) / min(budget.batch_size, len(train_items)))
    info = {"adapter": asdict(adapter), "budget": asdict(budget), "score_target": reasoner.config.score_target,
            "steps": run["steps"], "steps_run": run["steps_run"], "epochs": round(run["steps"] / batches, 2),
            "val_accuracy": run["val_accuracy"], "val_loss": run["val_loss"], "evaluations": run["evaluations"],
            "adapter_parameters": sum(p.numel() for p in reasoner.adapter_weights().values()),
            "train_items": len(train_items), "val_items": len(val_items), "seed": seed,
            "reasoner_id": reasoner.reasoner_id, "fit_s": round(time.perf_counter() - began, 3)}
    return FittedAdapter(reasoner, info)


def load_reasoner_adapter(reasoner_config: ReasonerConfig, folder: str | Path) -> FittedAdapter:
    """An adapter saved by ``FittedAdapter.save`` on a freshly loaded reasoner."""
    return FittedAdapter(adapted_reasoner(reasoner_config, saved=folder), {"adapter_dir": str(folder)})



def train_and_score(spec: TrialSpec, ctx: StudyContext, folder: Path) -> tuple[dict[str, list[bool]], dict]:
    """``internalise-lalm``: a LoRA adapter on the reasoner, fitted on the trial's
    training items (with audio), early-stopped on the validation split, scored on every
    evaluation split (the test split and the out-of-distribution ones)."""
    data = ctx.data
    train = load_items(data.data_dir, data.training_splits, data.training_ids(spec.train_size, spec.seed))
    val = load_items(data.data_dir, ("validation",), data.validation_ids)
    validation_items = len(val)
    fitted = fit_reasoner_adapter(ctx.config.reasoner, train, val, spec.seed)
    del train, val  # their audio
    fitted.save(folder / "adapter")
    (folder / "fit.json").write_text(json.dumps(fitted.info, indent=1))
    correct = {}
    for split, ids in data.eval_splits.items():
        items = load_items(data.data_dir, (split,), ids)
        correct[split] = [item.choices[pick] == item.answer
                          for item, pick in zip(items, fitted.predict(items), strict=True)]
    return correct, {"fit": fitted.info, "validation_items": validation_items}

# ----------------------------------------------------------------------- training


def _train(reasoner: LoraAdapted, train: list[AudioQAItem], val: list[AudioQAItem],
           adapter: AdapterConfig, budget: AdapterBudget, seed: int) -> dict:
    """AdamW in shuffled batches; the best validation evaluation is kept (module doc)."""
    weights = reasoner.adapter_weights()
    optimiser = torch.optim.AdamW(list(weights.values()), lr=adapter.lr, weight_decay=adapter.weight_decay)
    torch.manual_seed(seed)  # LoRA dropout
    order = torch.Generator().manual_seed(seed)
    batch_size = min(budget.batch_size, len(train))
    eval_every = max(math.ceil(len(train) / batch_size), budget.min_eval_every)
    accuracy, loss = _evaluate(reasoner, val)
    evaluations = [{"step": 0, "val_accuracy": accuracy, "val_loss": loss, "train_loss": None}]
    best = (accuracy, loss, 0, _copy(weights))
    step, waited, losses = 0, 0, []
    while step < budget.max_steps and waited < budget.patience:
        for rows in torch.randperm(len(train), generator=order).split(batch_size):
            reasoner.adapter_dropout(True)
            batch_loss = _loss(reasoner, [train[i] for i in rows.tolist()])
            optimiser.zero_grad()
            batch_loss.backward()
            optimiser.step()
            step += 1
            losses.append(batch_loss.item())
            if step % eval_every == 0 or step == budget.max_steps:
                accuracy, loss = _evaluate(reasoner, val)
                evaluations.append({"step": step, "val_accuracy": accuracy, "val_loss": loss,
                                    "train_loss": float(np.mean(losses))})
                losses = []
                better = (accuracy, -loss) > (best[0], -best[1])
                best = (accuracy, loss, step, _copy(weights)) if better else best
                waited = 0 if better else waited + 1
                if waited >= budget.patience or step >= budget.max_steps:
                    break
    with torch.no_grad():
        for name, weight in weights.items():
            weight.copy_(best[3][name])
    reasoner.adapter_dropout(False)
    return {"val_accuracy": best[0], "val_loss": best[1], "steps": best[2], "steps_run": step,
            "evaluations": evaluations}


def _loss(reasoner: LoraAdapted, items: list[AudioQAItem]) -> torch.Tensor:
    """The batch's teacher-forced cross-entropy of its targets (formula in the module doc).
    Rows are left-padded, so every row's targets end at the last position; the (frozen)
    head runs only where a target is read, as in the reasoner's scorer."""
    tokens, contexts, targets = zip(*[reasoner.training_example(_request(item)) for item in items], strict=True)
    hidden = reasoner.hidden_states([t + y for t, y in zip(tokens, targets, strict=True)], contexts)
    width = hidden.shape[1]
    losses = []
    for row, target in enumerate(targets):
        logprobs = reasoner.scorer.logprobs(hidden[row, width - len(target) - 1 : width - 1])
        ids = torch.tensor(target, device=hidden.device)[:, None]
        losses.append(-logprobs.gather(1, ids).mean())
    return torch.stack(losses).mean()


def _evaluate(reasoner: LoraAdapted, items: Sequence[AudioQAItem]) -> tuple[float, float]:
    """(accuracy, mean cross-entropy of the answers), both from the reasoner's own scores."""
    outcomes = _answer(reasoner, items)
    accuracy = float(np.mean([o.chosen_index == item.answer_index for o, item in zip(outcomes, items, strict=True)]))
    loss = -float(np.mean([o.scores[item.answer_index] for o, item in zip(outcomes, items, strict=True)]))
    return accuracy, loss


def _answer(reasoner: LoraAdapted, items: Sequence[AudioQAItem]) -> list[ReasonerOutcome]:
    """No-evidence outcomes of ``items`` from the adapted model, in evaluation mode."""
    reasoner.adapter_dropout(False)
    reasoner.forget_scores()
    outcomes: list[ReasonerOutcome] = []
    for start in range(0, len(items), ANSWER_CHUNK):
        chunk = items[start : start + ANSWER_CHUNK]
        for item, outcome in zip(chunk, reasoner.answer([_request(item) for item in chunk]), strict=True):
            if outcome.error:
                raise RuntimeError(f"internalise-lalm: the adapted reasoner could not answer {item.id}: "
                                   f"{outcome.error}")
            outcomes.append(outcome)
    return outcomes


def _request(item: AudioQAItem) -> ReasonerRequest:
    waveform, sample_rate = decode_item_audio(item.audio, item.audio_path, None, f"item {item.id}")
    return ReasonerRequest(item.id, waveform, sample_rate, item.question, item.choices, item.answer, [])


def _copy(weights: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {name: weight.detach().clone() for name, weight in weights.items()}


def _threads(reasoner: LoraAdapted) -> contextlib.AbstractContextManager:
    return one_thread() if reasoner.device.type == "cpu" else contextlib.nullcontext()
