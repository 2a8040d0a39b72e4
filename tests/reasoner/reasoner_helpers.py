"""Request and config builders shared by the reasoner tests."""

from __future__ import annotations

import numpy as np

from audiorouter.config import ReasonerConfig
from audiorouter.contracts import ReasonerRequest, ToolResult

SR = 16_000


def tone(seconds: float = 1.0, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(SR * seconds)) / SR
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def request(item_id: str = "item-0", choices=None, answer="A4", evidence=None, **overrides) -> ReasonerRequest:
    values = dict(
        item_id=item_id, waveform=tone(), sample_rate=SR, question="Which note is played?",
        choices=["A4", "C5", "E5", "G4"] if choices is None else choices, answer=answer,
        evidence=list(evidence or []),
    )
    values.update(overrides)
    return ReasonerRequest(**values)


def pitch_result(summary: str = "median pitch A4 (440.0 Hz)") -> ToolResult:
    return ToolResult(tool="pitch", version="1", ok=True, summary=summary)


def model_config(backend: str, model: str, **overrides) -> ReasonerConfig:
    """A float32 CPU config without memo (tiny random models tie in bf16)."""
    values = dict(backend=backend, model=model, dtype="float32", device="cpu", memo_path="", batch_size=8,
                  max_new_tokens=4)
    values.update(overrides)
    config = ReasonerConfig(**values)
    config.validate()
    return config
