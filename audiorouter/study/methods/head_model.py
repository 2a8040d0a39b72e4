"""The heads' network (methods/internalise.py): one logit per choice from the item's
context (audio input, or tool outputs, and the question) and the choice's text and value;
the formula is in internalise's docstring. ``HeadBatch`` is its input, ``HeadConfig``
its size and regularisation.

Imports: nothing of the project.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

MASKED = -1e9  # score of a padding choice


@dataclass(frozen=True)
class HeadConfig:
    hidden: int = 128
    lr: float = 3e-3
    weight_decay: float = 1e-2  # AdamW (decoupled)
    dropout: float = 0.2
    depth: int = 1  # layers of the context network



@dataclass
class HeadBatch:
    audio: torch.Tensor  # (N, audio components) float32, or (N, mels, frames) float16 for scratch
    texts: torch.Tensor  # (U, text components) the distinct question and choice texts
    question: torch.Tensor  # (N,) row of texts
    choices: torch.Tensor  # (N, C) rows of texts (0 where padded)
    numeric: torch.Tensor  # (N, C, numeric dim)
    mask: torch.Tensor  # (N, C) bool, False where padded
    reasoner: torch.Tensor  # (N, C) log-softmax reasoner scores, 0 without them
    answer: torch.Tensor  # (N,) long, -1 where unknown

    @property
    def size(self) -> int:
        return len(self.answer)

    def take(self, rows: torch.Tensor | slice) -> HeadBatch:
        return HeadBatch(self.audio[rows], self.texts, self.question[rows], self.choices[rows], self.numeric[rows],
                      self.mask[rows], self.reasoner[rows], self.answer[rows])




class MelEncoder(nn.Module):
    """(N, mels, frames) raw log-mel -> (N, out): normalised per band, three strided
    temporal convolutions with the mel bands as channels (absolute pitch stays
    readable), then the mean over 8 time blocks (order kept) and the max over time."""

    def __init__(self, mean: np.ndarray, scale: np.ndarray, width: int = 64, out: int = 128) -> None:
        super().__init__()
        self.register_buffer("mean", torch.from_numpy(mean.astype(np.float32))[None, :, None])
        self.register_buffer("scale", torch.from_numpy(scale.astype(np.float32))[None, :, None])
        layers: list[nn.Module] = []
        for channels in (len(mean), width, width):
            layers += [nn.Conv1d(channels, width, 5, stride=2, padding=2), nn.BatchNorm1d(width), nn.ReLU()]
        self.convs = nn.Sequential(*layers)
        self.blocks = nn.AdaptiveAvgPool1d(8)
        self.proj = nn.Linear(9 * width, out)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = self.convs((mel.float() - self.mean) / self.scale)
        return torch.relu(self.proj(torch.cat([self.blocks(x).flatten(1), x.amax(dim=2)], dim=1)))


class ChoiceScorer(nn.Module):
    """One logit per choice (formula in the module docstring)."""

    def __init__(self, audio_dim: int, text_dim: int, numeric_dim: int, config: HeadConfig,
                 encoder: nn.Module | None = None, reasoner: bool = False) -> None:
        super().__init__()
        h = config.hidden
        self.encoder = encoder or nn.Identity()
        self.audio, self.question = nn.Linear(audio_dim, h), nn.Linear(text_dim, h, bias=False)
        self.deeper = nn.ModuleList(nn.Linear(h, h) for _ in range(config.depth - 1))  # depth > 1
        self.context = nn.Linear(h, 2 * h)
        self.choice_text = nn.Linear(text_dim, 2 * h)
        self.choice_value = nn.Linear(numeric_dim, 2 * h, bias=False)
        self.out = nn.Linear(h, 1)
        self.drop = nn.Dropout(config.dropout)
        self.alpha = nn.Parameter(torch.ones(())) if reasoner else None
        self.trust = nn.Linear(text_dim, 1, bias=False) if reasoner else None  # alpha's change per question
        with torch.no_grad():  # the head starts at 0 for every choice
            for param in (self.out.weight, self.out.bias, self.choice_text.weight[h:],
                          self.choice_text.bias[h:], self.choice_value.weight[h:],
                          *(self.trust.parameters() if reasoner else ())):
                param.zero_()

    def forward(self, batch: HeadBatch) -> torch.Tensor:
        question = self.question(batch.texts)[batch.question]
        context = self.drop(torch.relu(self.audio(self.encoder(batch.audio)) + question))
        for layer in self.deeper:
            context = self.drop(torch.relu(layer(context)))
        add, mul = self.context(context).chunk(2, dim=-1)  # (N, H) each
        choice = self.choice_text(batch.texts)[batch.choices] + self.choice_value(batch.numeric)
        choice_add, choice_mul = choice.chunk(2, dim=-1)  # (N, C, H) each
        score = self.out(torch.relu(add[:, None] + choice_add)).squeeze(-1)
        score = score + (mul[:, None] * choice_mul).sum(-1) / math.sqrt(mul.shape[-1])
        if self.alpha is not None:
            score = score + (self.alpha + self.trust(batch.texts)[batch.question]) * batch.reasoner
        return score.masked_fill(~batch.mask, MASKED)
