"""Options every command accepts, before or after the command name."""

from __future__ import annotations

import argparse
from pathlib import Path

from audiorouter.config import Config, load_config
from audiorouter.reasoner.registry import check_backend
from audiorouter.rl.registry import check_train
from audiorouter.study.methods import check_study


def config_options(parser: argparse.ArgumentParser, suppress: bool = False) -> None:
    """``--config FILE`` and repeatable ``--set key=value``.

    Leaf commands add them with ``suppress=True`` so that options given before the
    command name are not reset when the leaf parser fills in its defaults.
    """
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--config", default=default, help="YAML config file (default: the embedded defaults)")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=argparse.SUPPRESS if suppress else [],
        metavar="KEY=VALUE",
        help="override one config value by its dotted key, e.g. --set data.synth.n=200 (repeatable)",
    )


def add_leaf(sub: argparse._SubParsersAction, name: str, **kwargs) -> argparse.ArgumentParser:
    """A sub-command parser that also takes the config options."""
    parser = sub.add_parser(name, **kwargs)
    config_options(parser, suppress=True)
    return parser


def load_with_flags(args: argparse.Namespace, flags: dict[str, object]):
    """The config from ``--config`` and ``--set``, then each command flag that was given
    (``{"dotted.key": value}``; None means not given), so flags win over ``--set``."""
    overrides = list(args.overrides) + [f"{key}={value}" for key, value in flags.items() if value is not None]
    return load_checked(args.config, overrides)


def load_checked(path: str | Path | None, overrides: list[str] | None = None) -> Config:
    """``load_config``, then the names only the registries know (reasoner back-end,
    reward, algorithm, study methods): every command checks its whole config before any
    work starts."""
    config = load_config(path, overrides)
    check_backend(config.reasoner)
    check_train(config.train)
    check_study(config)
    return config
