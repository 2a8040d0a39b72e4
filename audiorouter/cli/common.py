"""Options every command accepts, before or after the command name."""

from __future__ import annotations

import argparse


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
