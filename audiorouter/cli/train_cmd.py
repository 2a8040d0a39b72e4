"""``audiorouter train``: the main job (build, train, evaluate, save) on local Ray or a cluster."""

from __future__ import annotations

import argparse

from audiorouter.cli.common import add_leaf, load_with_flags


def register(commands: argparse._SubParsersAction) -> None:
    parser = add_leaf(
        commands,
        "train",
        help="train the router and evaluate it on held-out items",
        description="Generate the suite if missing, fill the tool cache, train the router with RLlib "
        "(reward from the reasoner's outcomes with vs without the routed evidence), evaluate it "
        "against no tools / all tools / best single tool / oracle routing, and track it in MLflow. "
        "Joins the Ray cluster in RAY_ADDRESS when set (ray job submit), else starts a local one.",
    )
    parser.add_argument("--resume", action="store_true",
                        help="continue run.name from its last checkpoint (same iterations, same MLflow run)")
    parser.add_argument("--iterations", type=int, help="training iterations (train.iterations)")
    parser.add_argument("--name", help="run name; output goes to run.out_dir/NAME (run.name)")
    parser.set_defaults(handler=run_train)


def run_train(args: argparse.Namespace) -> int:
    from audiorouter.outcomes.state_check import check_shared_state

    config = load_with_flags(args, {"train.iterations": args.iterations, "run.name": args.name})
    check_shared_state(config)  # before the driver's imports (Ray, RLlib, torch): an answer in seconds

    from audiorouter.training.driver import TrainingRun

    run = TrainingRun(config, resume=args.resume, shared_state_checked=True)
    report = run.run()
    print()
    print(report.render())
    print(f"\nrun folder: {run.dir}\nMLflow: run {run.tracker.run_id} in {run.tracker.uri}"
          f"\n  open the UI with: .venv/bin/mlflow ui --backend-store-uri {run.tracker.uri}")
    return 0
