"""``audiorouter infer route|tools|reason|all``: batch inference in three resumable stages.

Every stage is a Ray Data job (a local Ray, or the cluster at RAY_ADDRESS) over the
items of ``--data``/``--split`` and writes under ``--out``: ``decisions/``,
``evidence/`` and ``answers/`` (Parquet parts, one per chunk). A rerun skips the items
already written, so an interrupted stage resumes where it stopped.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from audiorouter.cli.common import add_leaf, load_with_flags
from audiorouter.cluster.session import ray_running
from audiorouter.data.items import split_files


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
    cfg = load_with_flags(args, {"data.dir": args.data, "run.eval_split": args.split, "run.eval_limit": args.limit})
    if not split_files(cfg.data.dir, cfg.run.eval_split):
        raise SystemExit(f"no items in split {cfg.run.eval_split!r} under {cfg.data.dir}")
    return cfg, dict(data_dir=cfg.data.dir, split=cfg.run.eval_split, out=Path(args.out))


def _options(args: argparse.Namespace, cfg) -> dict:
    return dict(limit=cfg.run.eval_limit or None, chunk_size=args.chunk_size, progress=not args.no_progress)


def _route(args, cfg, where):
    from audiorouter.inference import route_stage
    from audiorouter.router.policy import policy_dir

    return route_stage(**where, policy_dir=policy_dir(args.router), **_options(args, cfg),
                       feature_cache_dir=cfg.router.feature_cache_dir or None,
                       max_duration_s=cfg.tools.max_duration_s)


def _tools(args, cfg, where):
    from audiorouter.inference import tools_stage

    return tools_stage(**where, tools_config=cfg.tools, **_options(args, cfg))


def _reason(args, cfg, where):
    from audiorouter.inference import reason_stage

    return reason_stage(**where, reasoner_config=cfg.reasoner, **_options(args, cfg),
                        max_duration_s=cfg.tools.max_duration_s)


def _run(args: argparse.Namespace, stages) -> int:
    from audiorouter.inference.summary import write_summary
    from audiorouter.tracking.mlflow_tracker import Tracker

    cfg, where = _setup(args)
    reports = []
    with ray_running():
        for stage in stages:
            reports.append(stage(args, cfg, where))
            print(reports[-1].render(), flush=True)
    params = {"stages": ",".join(r.stage for r in reports), "data.dir": cfg.data.dir, "split": where["split"],
              "limit": cfg.run.eval_limit, "out": str(where["out"]), "router": getattr(args, "router", None) or "",
              "reasoner": cfg.reasoner.backend, "chunk_size": args.chunk_size}
    path, metrics = write_summary(where["out"], reports, params)
    tracker = Tracker(cfg.tracking, f"infer-{where['split']}")
    tracker.log_params(params)
    tracker.log_metrics(metrics, step=0)
    tracker.log_artifact(path)
    tracker.finish()
    print(f"summary: {path}; MLflow run {tracker.run_id} in {tracker.uri}")
    return 0


def run_route(args: argparse.Namespace) -> int:
    return _run(args, [_route])


def run_tools(args: argparse.Namespace) -> int:
    return _run(args, [_tools])


def run_reason(args: argparse.Namespace) -> int:
    return _run(args, [_reason])


def run_all(args: argparse.Namespace) -> int:
    return _run(args, [_route, _tools, _reason])
