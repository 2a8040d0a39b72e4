"""``audiorouter study``: the scaling study as one Ray Tune sweep (see audiorouter.study)."""

from __future__ import annotations

import argparse
import sys

from audiorouter.cli.common import add_leaf, load_with_flags


def register(commands: argparse._SubParsersAction) -> None:
    parser = add_leaf(
        commands,
        "study",
        help="run the data-efficiency study: routers vs internalised perception, swept with Ray Tune",
        description="Generate the study's items if missing, run the tools on the router items and the test "
        "split, then sweep every method x training size x seed with Ray Tune (trials share one reasoner "
        "pool, memo and tool cache), and write curves, data-efficiency ratios with bootstrap intervals, "
        "study.json, study.md and plots, tracked in MLflow. Rerunning continues an interrupted study; "
        "finished trials are never trained again.",
    )
    parser.add_argument("--name", help="study name; output goes to run.out_dir/NAME (study.name)")
    parser.add_argument("--seeds", type=int, help="seeds per method and size (study.seeds)")
    parser.set_defaults(handler=run_study)


def run_study(args: argparse.Namespace) -> int:
    from audiorouter.study.report import render_markdown
    from audiorouter.study.runner import StudyIncomplete, StudyRun

    config = load_with_flags(args, {"study.name": args.name, "study.seeds": args.seeds})
    run = StudyRun(config)
    try:
        analysis = run.run()
    except StudyIncomplete as exc:
        print(f"study incomplete: {exc}", file=sys.stderr)
        return 3
    print()
    print(render_markdown(analysis))
    print(f"\nstudy folder: {run.dir}")
    return 0
