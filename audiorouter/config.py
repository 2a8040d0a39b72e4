"""Typed configuration: dataclasses, loaded from YAML, overridden by dotted keys.

    cfg = load_config("configs/quickstart.yaml", ["data.synth.n=200"])

Every section is a dataclass with defaults, so the embedded defaults need no file.
Loading validates once: an unknown key names the valid ones, a value of the wrong type
names the expected type, and each section's ``validate`` checks ranges.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    """A configuration problem; the message names the key and what is allowed."""


@dataclass
class SynthConfig:
    """The built-in perception suite (see audiorouter.data.synth)."""

    n: int = 1200  # items in all splits together
    seed: int = 0
    families: list[str] = field(default_factory=list)  # empty: every available family
    validation_fraction: float = 0.1
    test_fraction: float = 0.2
    shard_size: int = 256  # items per Parquet file
    workers: int = 2  # generator processes (1 = in this process)

    def validate(self) -> None:
        if self.workers < 1:
            raise ConfigError(f"data.synth.workers must be >= 1, got {self.workers}")
        if self.n < 1:
            raise ConfigError(f"data.synth.n must be >= 1, got {self.n}")
        for name in ("validation_fraction", "test_fraction"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ConfigError(f"data.synth.{name} must be in [0, 1), got {value}")
        if self.validation_fraction + self.test_fraction >= 1.0:
            raise ConfigError("data.synth.validation_fraction + test_fraction must be < 1")
        if self.shard_size < 1:
            raise ConfigError(f"data.synth.shard_size must be >= 1, got {self.shard_size}")


@dataclass
class ImportConfig:
    """Importing local copies of public benchmarks (MMAU, MMAR)."""

    max_duration_s: float = 600.0  # longer clips are rejected as absurd
    split: str = "test"  # the split imported records are written to

    def validate(self) -> None:
        if self.max_duration_s <= 0:
            raise ConfigError(f"data.imports.max_duration_s must be > 0, got {self.max_duration_s}")


@dataclass
class DataConfig:
    dir: str = "data/perception"  # where the dataset lives (Parquet shards per split)
    synth: SynthConfig = field(default_factory=SynthConfig)
    imports: ImportConfig = field(default_factory=ImportConfig)

    def validate(self) -> None:
        self.synth.validate()
        self.imports.validate()


@dataclass
class ToolsConfig:
    """Audio tools (see audiorouter.tools): which run, where, and their limits."""

    enabled: list[str] = field(default_factory=list)  # empty: every available tool
    cache_dir: str = "runs/tool_cache"  # content-addressed results; "" disables the cache
    timeout_s: float = 60.0  # per tool call; a slower call becomes an error result
    max_duration_s: float = 120.0  # clips longer than this are cut or refused
    long_clips: str = "truncate"  # "truncate" (analyse the first max_duration_s) or "error"
    num_actors: int = 2  # tool-executor actors (and batch workers)
    actor_num_cpus: float = 1.0  # CPU share of each actor (fractions allowed)
    gpu_actors: int = 0  # extra actors for tools that use a GPU (0: they run on CPU actors)
    gpu_per_actor: float = 1.0  # GPU share of each GPU actor
    batch_size: int = 8  # clips per Ray Data batch
    asr_language: str = "en"  # speech recognition language ("" lets whisper detect it)

    def validate(self) -> None:
        if self.long_clips not in ("truncate", "error"):
            raise ConfigError(f"tools.long_clips must be 'truncate' or 'error', got {self.long_clips!r}")
        for name in ("timeout_s", "max_duration_s", "actor_num_cpus", "gpu_per_actor"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"tools.{name} must be > 0, got {getattr(self, name)}")
        for name in ("num_actors", "batch_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"tools.{name} must be >= 1, got {getattr(self, name)}")
        if self.gpu_actors < 0:
            raise ConfigError(f"tools.gpu_actors must be >= 0, got {self.gpu_actors}")


@dataclass
class Config:
    """The whole run, one section per role."""

    data: DataConfig = field(default_factory=DataConfig)
    tools: ToolsConfig = field(default_factory=ToolsConfig)

    def validate(self) -> None:
        self.data.validate()
        self.tools.validate()


# --------------------------------------------------------------------------- loading


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> Config:
    """Defaults, then the YAML file, then ``key.path=value`` overrides; validated."""
    raw: dict[str, Any] = {}
    if path is not None:
        text = Path(path).read_text()
        raw = yaml.safe_load(text) or {}
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: the top level must be a mapping, got {type(raw).__name__}")
    for override in overrides or []:
        _apply_override(raw, override)
    config = build(Config, raw, prefix="")
    config.validate()
    return config


def _apply_override(raw: dict[str, Any], override: str) -> None:
    key, sep, value = override.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"override {override!r} must look like section.key=value")
    parts = key.strip().split(".")
    node = raw
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"override {override!r}: {part!r} is not a section")
    node[parts[-1]] = yaml.safe_load(value) if value.strip() else ""


def build(cls: type, raw: dict[str, Any], prefix: str) -> Any:
    """Build dataclass ``cls`` from a mapping, checking keys and value types."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'} must be a mapping, got {raw!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        where = prefix or "the top level"
        raise ConfigError(
            f"unknown key {prefix + unknown[0]!r}; valid keys at {where}: {', '.join(fields)}"
        )
    hints = typing.get_type_hints(cls)
    values = {}
    for name, value in raw.items():
        values[name] = _coerce(hints[name], value, f"{prefix}{name}")
    return cls(**values)


def _coerce(hint: Any, value: Any, key: str) -> Any:
    if dataclasses.is_dataclass(hint):
        return build(hint, value, prefix=f"{key}.")
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(inner[0], value, key)
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{key} must be a list, got {value!r}")
        return [_coerce(args[0], v, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{key} must be a mapping, got {value!r}")
        return {str(k): _coerce(args[1], v, f"{key}.{k}") for k, v in value.items()}
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint in (int, float, str, bool) and not (
        isinstance(value, hint) and not (hint is int and isinstance(value, bool))
    ):
        raise ConfigError(f"{key} must be {hint.__name__}, got {value!r}")
    return value


# ----------------------------------------------------------------------- presenting


def to_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)


def to_yaml(config: Any) -> str:
    return yaml.safe_dump(to_dict(config), sort_keys=False)


def flatten(config: Any) -> dict[str, Any]:
    """``{"data.synth.n": 1200, ...}``: one entry per leaf, for experiment tracking."""
    flat: dict[str, Any] = {}

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{prefix}{key}.")
        else:
            flat[prefix[:-1]] = ",".join(map(str, node)) if isinstance(node, list) else node

    walk(to_dict(config), "")
    return flat
