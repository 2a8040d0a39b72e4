"""``audiorouter infer route|tools|reason|all``: batch inference in three resumable stages.

Every stage reads the items of ``--data``/``--split`` and writes under ``--out``:
``decisions/``, ``evidence/`` and ``answers/`` (Parquet parts, one per chunk). A rerun
skips the items already written, so an interrupted stage resumes where it stopped.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from audiorouter.cli.common import add_leaf
from audiorouter.config import load_config


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("infer", help="batch inference: route, run the routed tools, answer (resumable)")
    sub = parser.add_subparsers(dest="infer_command", metavar="STAGE", required=True)
    stages = {
        "route": ("items -> routing decisions (OUT/decisions)", run_route),
        "tools": ("decisions -> evidence of the routed tools only (OUT/evidence)", run_tools),
        "reason": ("evidence -> answers, with accuracy when labels exist (OUT/answers)", run_reason),
        "all": ("route, tools and reason in turn", run_all),
    }
    for name, (text, handler) in stages.items():
        leaf = add_leaf(sub, name, help=text, description=text + "; reruns skip the items already written.")
        leaf.add_argument("--data", help="dataset folder (data.dir)")
        leaf.add_argument("--split", help="split to run on (run.eval_split)")
        leaf.add_argument("--limit", type=int, help="first N items of the split (run.eval_limit)")
        leaf.add_argument("--out", required=True, help="output folder (decisions/, evidence/, answers/)")
        leaf.add_argument("--chunk-size", type=int, default=64, help="items per chunk and per part (default 64)")
        leaf.add_argument("--no-progress", action="store_true", help="no progress bar")
        if name in ("route", "all"):
            leaf.add_argument("--router", required=True,
                              help="a checkpoint folder (runs/NAME/checkpoints/iter-N) or its policy/ folder")
        leaf.set_defaults(handler=handler)


def _setup(args: argparse.Namespace):
    from audiorouter.data.store import iter_items

    overrides = list(args.overrides)
    for key, value in (("data.dir", args.data), ("run.eval_split", args.split), ("run.eval_limit", args.limit)):
        if value is not None:
            overrides.append(f"{key}={value}")
    cfg = load_config(args.config, overrides)
    items = list(iter_items(cfg.data.dir, cfg.run.eval_split))[: cfg.run.eval_limit or None]
    if not items:
        raise SystemExit(f"no items in split {cfg.run.eval_split!r} under {cfg.data.dir}")
    return cfg, items


def _route(args, cfg, items) -> None:
    from audiorouter.cli.eval_cmd import policy_dir
    from audiorouter.inference import route_stage
    from audiorouter.router.policy import RouterPolicy

    policy = RouterPolicy.load(policy_dir(args.router))
    print(route_stage(items, policy, Path(args.out), args.chunk_size, cfg.router.feature_cache_dir or None,
                      progress=not args.no_progress).render())


def _tools(args, cfg, items) -> None:
    from audiorouter.inference import tools_stage

    print(tools_stage(items, Path(args.out), cfg.tools, args.chunk_size, cfg.data.dir,
                      progress=not args.no_progress).render())


def _reason(args, cfg, items) -> None:
    from audiorouter.inference import reason_stage
    from audiorouter.reasoner import build_reasoner

    reasoner = build_reasoner(cfg.reasoner)
    print(reason_stage(items, Path(args.out), reasoner, args.chunk_size, cfg.data.dir,
                       progress=not args.no_progress).render())


def run_route(args: argparse.Namespace) -> int:
    _route(args, *_setup(args))
    return 0


def run_tools(args: argparse.Namespace) -> int:
    _tools(args, *_setup(args))
    return 0


def run_reason(args: argparse.Namespace) -> int:
    _reason(args, *_setup(args))
    return 0


def run_all(args: argparse.Namespace) -> int:
    cfg, items = _setup(args)
    for stage in (_route, _tools, _reason):
        stage(args, cfg, items)
    return 0
