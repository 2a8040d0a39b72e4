"""``audiorouter [--config FILE] [--set key=value ...] <command> ...``

Global options pick the configuration; each command group lives in its own module
and registers its sub-commands here.
"""

from __future__ import annotations

import argparse
import logging
import sys

from audiorouter.cli import (
    cluster_cmd,
    config_cmd,
    data_cmd,
    eval_cmd,
    infer_cmd,
    reason_cmd,
    serve_cmd,
    store_cmd,
    study_cmd,
    tools_cmd,
    train_cmd,
)
from audiorouter.cli.common import config_options
from audiorouter.config import ConfigError
from audiorouter.run_lock import RunFolderBusy
from audiorouter.state_files import StateFileError

COMMAND_GROUPS = (data_cmd, config_cmd, tools_cmd, reason_cmd, train_cmd, eval_cmd, infer_cmd, serve_cmd, study_cmd,
                  store_cmd, cluster_cmd)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="audiorouter",
        description="Train and run a router that decides which audio tools a frozen reasoner gets.",
    )
    config_options(parser)
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in COMMAND_GROUPS:
        group.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.handler(args) or 0)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    except (StateFileError, RunFolderBusy) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
