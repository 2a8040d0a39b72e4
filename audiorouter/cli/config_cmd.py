"""``audiorouter config show``: print the resolved configuration."""

from __future__ import annotations

import argparse

from audiorouter.cli.common import add_leaf, load_checked
from audiorouter.config import flatten, to_yaml


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("config", help="inspect the resolved configuration")
    sub = parser.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    show = add_leaf(sub, "show", help="print the config after file and --set overrides")
    show.add_argument("--flat", action="store_true", help="one dotted key per line, as tracked")
    show.set_defaults(handler=show_config)


def show_config(args: argparse.Namespace) -> int:
    config = load_checked(args.config, args.overrides)
    if args.flat:
        for key, value in flatten(config).items():
            print(f"{key}={value}")
    else:
        print(to_yaml(config), end="")
    return 0
