"""The registry of reasoner back-ends: names and classes, importable without any model.

    @register_reasoner
    class Echo(Reasoner): name = "echo"; ...

``check_backend(config)`` is how a driver checks ``reasoner.backend`` before any work
starts (the config itself does not know the registry); ``reasoner_class`` imports a
built-in back-end's module on first use, so importing one never loads the others.
"""

from __future__ import annotations

import importlib
from typing import Any

from audiorouter.config import ConfigError, ReasonerConfig

REASONERS: dict[str, type] = {}  # name -> Reasoner subclass
BUILTIN_MODULES = {
    "reference": "audiorouter.reasoner.reference",
    "cascade": "audiorouter.reasoner.cascade",
    "lalm": "audiorouter.reasoner.lalm",
}


def register_reasoner(cls: Any) -> Any:
    """Class decorator: make a ``Reasoner`` subclass available by its ``name``."""
    REASONERS[cls.name] = cls
    return cls


def known_backends() -> list[str]:
    return sorted(set(BUILTIN_MODULES) | set(REASONERS))


def check_backend(config: ReasonerConfig) -> None:
    """ConfigError naming the valid back-ends when ``config.backend`` is none of them."""
    if config.backend not in known_backends():
        raise ConfigError(f"reasoner.backend {config.backend!r} unknown; valid: {', '.join(known_backends())}")


def reasoner_class(name: str) -> type:
    if name not in REASONERS and name in BUILTIN_MODULES:
        try:
            importlib.import_module(BUILTIN_MODULES[name])
        except ModuleNotFoundError as exc:
            if exc.name != BUILTIN_MODULES[name]:
                raise
            raise ConfigError(f"reasoner back-end {name!r} is not available: {exc}") from exc
    if name not in REASONERS:
        raise ConfigError(f"unknown reasoner back-end {name!r}; valid: {', '.join(known_backends())}")
    return REASONERS[name]
