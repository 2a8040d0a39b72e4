"""What the tests of ``eval`` share: a tiny untrained router and the CLI settings that
keep every file of a run under one temporary folder."""

from __future__ import annotations

from pathlib import Path

from audiorouter.features import FeatureSpec
from audiorouter.router.actions import ActionSpace
from audiorouter.router.policy import RouterNet, RouterPolicy

TOOLS = ("loudness", "segments", "tempo")


def tiny_policy(directory: Path, tools: tuple[str, ...] = TOOLS) -> Path:
    spec = FeatureSpec(n_mels=8)
    actions = ActionSpace(tools, "subsets", 2)
    RouterPolicy(RouterNet(spec.dim, actions.num_logits, (8,)), actions, spec, (8,)).save(directory / "policy")
    return directory


def settings(tmp_path: Path, tools: tuple[str, ...] = TOOLS) -> list[str]:
    values = {"tools.enabled": "[" + ",".join(tools) + "]", "tools.cache_dir": tmp_path / "tool_cache",
              "reasoner.memo_path": tmp_path / "memo.sqlite", "router.feature_cache_dir": tmp_path / "features",
              "tracking.tracking_uri": tmp_path / "mlflow.db", "tracking.artifact_dir": tmp_path / "mlartifacts",
              "run.use_actors": "false", "run.out_dir": tmp_path / "runs"}
    return [arg for k, v in values.items() for arg in ("--set", f"{k}={v}")]
