"""Shared fixtures: tiny randomly initialised checkpoints."""

from __future__ import annotations

import pytest

from audiorouter.testing.synthetic_models import save_synthetic_model


@pytest.fixture(scope="session")
def tiny_checkpoints(tmp_path_factory) -> dict[str, str]:
    """kind -> directory of a tiny random checkpoint (causal_lm, qwen2_audio, omni thinker)."""
    root = tmp_path_factory.mktemp("tiny_models")
    return {kind: str(save_synthetic_model(kind, root / kind))
            for kind in ("causal_lm", "qwen2_audio", "qwen2_5_omni_thinker")}
