"""The registry of reasoner back-ends: names and classes, importable without any model.

    @register_reasoner
    class Echo(Reasoner): name = "echo"; ...

    get_reasoner("echo")      # the class; reasoner_names(): every back-end's name

``check_backend(config)`` is how a driver checks ``reasoner.backend`` before any work
starts (the config itself does not know the registry); ``get_reasoner`` imports a
built-in back-end's module on first use, so importing one never loads the others.
"""

from __future__ import annotations

import importlib
from typing import Any

from audiorouter.config import ConfigError, ReasonerConfig
from audiorouter.registry import Registry

REASONERS: Registry[type] = Registry("reasoner back-end", error=ConfigError)  # name -> Reasoner subclass
BUILTIN_MODULES = {
    "reference": "audiorouter.reasoner.reference",
    "cascade": "audiorouter.reasoner.cascade",
    "lalm": "audiorouter.reasoner.lalm",
}


def register_reasoner(cls: Any) -> Any:
    """Class decorator: make a ``Reasoner`` subclass available by its ``name``."""
    return REASONERS.register(cls.name)(cls)


def reasoner_names() -> list[str]:
    """Every back-end: the built-in ones (imported or not) and those registered."""
    return sorted(set(BUILTIN_MODULES) | set(REASONERS.names()))


def check_backend(config: ReasonerConfig) -> None:
    """ConfigError naming the valid back-ends when ``config.backend`` is none of them."""
    if config.backend not in reasoner_names():
        raise ConfigError(f"reasoner.backend {config.backend!r} unknown; valid: {', '.join(reasoner_names())}")


def get_reasoner(name: str) -> type:
    """The back-end class ``name`` (a built-in one's module imported first)."""
    if name not in REASONERS and name in BUILTIN_MODULES:
        try:
            importlib.import_module(BUILTIN_MODULES[name])
        except ModuleNotFoundError as exc:
            if exc.name != BUILTIN_MODULES[name]:
                raise
            raise ConfigError(f"reasoner back-end {name!r} is not available: {exc}") from exc
    if name not in REASONERS:
        raise ConfigError(f"unknown reasoner back-end {name!r}; valid: {', '.join(reasoner_names())}")
    return REASONERS.get(name)
