"""``audiorouter reason eval DATA``: the configured reasoner's accuracy per task family,
with no evidence, the matching tool's evidence and every tool's evidence (JSON), asked
through the outcome pipeline (tool cache, memo, the reasoner hosted as configured)."""

from __future__ import annotations

import argparse
import json

from audiorouter.cli.common import add_leaf, load_checked
from audiorouter.data.items import split_files
from audiorouter.data.synth.staleness import stale_suite_reason


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("reason", help="run the frozen reasoner")
    sub = parser.add_subparsers(dest="reason_command", metavar="ACTION", required=True)
    evaluate = add_leaf(sub, "eval", help="accuracy per task family under evidence conditions")
    evaluate.add_argument("data", help="dataset directory (<split>/part-*.parquet)")
    evaluate.add_argument("--split", default="test")
    evaluate.add_argument("--conditions", default="none,matching,all", help="comma-separated: none, matching, all")
    evaluate.set_defaults(handler=evaluate_reasoner)


def evaluate_reasoner(args: argparse.Namespace) -> int:
    from audiorouter.evaluation.reasoner_eval import evaluate  # loads models only when asked

    config = load_checked(args.config, args.overrides)
    if not split_files(args.data, args.split):  # before any model loads
        raise SystemExit(f"no items in split {args.split!r} under {args.data}: generate the built-in suite with "
                         f"`audiorouter data synth --out {args.data}` (make demo does it for data/perception)")
    if reason := stale_suite_reason(args.data, args.split):
        raise SystemExit(reason)
    conditions = tuple(c.strip() for c in args.conditions.split(",") if c.strip())
    report = evaluate(config, args.data, args.split, conditions)
    print(json.dumps(report, indent=1))
    return 0
