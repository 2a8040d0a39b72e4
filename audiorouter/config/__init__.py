"""Typed configuration: one dataclass section per role, validated on load (``loading``).
Imports nothing of the package but ``contracts``; names owned by a registry are checked by its owner.
"""

from audiorouter.config.loading import Config, build, flatten, load_config, to_dict, to_yaml
from audiorouter.config.sections import (
    ConfigError,
    DataConfig,
    ImportConfig,
    ReasonerConfig,
    RouterConfig,
    RunConfig,
    ServeConfig,
    SynthConfig,
    ToolsConfig,
    TrackingConfig,
    TrainConfig,
    resources_problem,
)
from audiorouter.config.study import StudyConfig

__all__ = [
    "Config", "ConfigError", "DataConfig", "ImportConfig", "ReasonerConfig", "RouterConfig", "RunConfig", "ServeConfig",
    "StudyConfig", "SynthConfig", "ToolsConfig", "TrackingConfig", "TrainConfig", "build", "flatten", "load_config",
    "resources_problem", "to_dict", "to_yaml",
]
