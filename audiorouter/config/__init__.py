"""Typed configuration: one dataclass section per role, validated on load (``loading``).

The lowest layer above ``contracts``: it imports nothing else of the package, so every
role may read its own section. Names owned by a registry are checked by its owner.
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
