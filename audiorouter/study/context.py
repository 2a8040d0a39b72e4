"""What every study trial shares: the config, the items, the tools, and where the
expensive parts live (router features file, tool cache, reasoner actors and memo).

A ``StudyContext`` is small and picklable: the driver builds it once and Ray Tune
hands it to every trial (``tune.with_parameters``). Heavy things are files or named
actors that a trial opens lazily.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from audiorouter.config import Config
from audiorouter.contracts import AudioQAItem
from audiorouter.features import FeatureSpec, ItemFeatures
from audiorouter.outcomes.pipeline import PipelineOutcomeSource, PipelineSourceSpec
from audiorouter.study.dataset import StudyData, load_items

ROUTER_FEATURES = "router_features.npz"


@dataclass(frozen=True)
class TrialSpec:
    method: str
    train_size: int
    seed: int

    @property
    def key(self) -> str:
        return f"{self.method}/n{self.train_size}-seed{self.seed}"


@dataclass
class StudyContext:
    config: Config
    data: StudyData
    tools: list[str]
    study_dir: str
    tool_latency_s: dict[str, float] = field(default_factory=dict)  # the tool cost's unit
    disabled_tools: dict[str, str] = field(default_factory=dict)

    @property
    def feature_spec(self) -> FeatureSpec:
        return FeatureSpec(n_mels=self.config.router.n_mels)

    def trial_dir(self, spec: TrialSpec) -> Path:
        return Path(self.study_dir) / "trials" / spec.key

    def router_features(self, item_ids: list[str]) -> ItemFeatures:
        """Router features of pool and test items, computed once by the driver."""
        with np.load(Path(self.study_dir) / ROUTER_FEATURES) as saved:
            features = ItemFeatures(saved["ids"].tolist(), saved["question"], saved["audio"])
        return features.select(item_ids)

    def items(self, item_ids: list[str], splits: tuple[str, ...]) -> list[AudioQAItem]:
        """The items themselves (audio included), in the order of ``item_ids``: what a
        method that reads the question as words (the LM router) is given."""
        return load_items(self.data.data_dir, splits, item_ids)

    def outcome_source(self, item_ids: list[str], splits: tuple[str, ...]) -> PipelineOutcomeSource:
        return PipelineOutcomeSource(PipelineSourceSpec.from_config(
            self.config, str(self.data.data_dir), splits, item_ids, self.disabled_tools, local_memo=True))


def save_router_features(features: ItemFeatures, study_dir: str | Path) -> Path:
    path = Path(study_dir) / ROUTER_FEATURES
    np.savez(path, ids=np.array(features.item_ids), question=features.question, audio=features.audio)
    return path
