"""``audiorouter tools list|analyse|run``: inspect tools, analyse a file, or run tools
over a dataset on the tool-executor actors and write the evidence table."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from audiorouter.cli.common import add_leaf, load_checked
from audiorouter.cluster.session import ray_running


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("tools", help="audio tools: list them, analyse a file, run them over a dataset")
    sub = parser.add_subparsers(dest="tools_command", metavar="ACTION", required=True)

    show = add_leaf(sub, "list", help="every tool with its version, description and availability")
    show.set_defaults(handler=list_tools)

    analyse = add_leaf(sub, "analyse", help="run tools on one audio file, print the results")
    analyse.add_argument("audio", help="an audio file (any format soundfile reads)")
    analyse.add_argument("--tools", default=None, help="all (default: tools.enabled) or a comma-separated list")
    analyse.add_argument("--json", action="store_true", help="print full results (data included) as JSON")
    analyse.set_defaults(handler=analyse_file)

    run = add_leaf(sub, "run", help="run tools over a dataset (tool-executor actors), write an evidence table")
    run.add_argument("--data", default=None, help="dataset directory (default: data.dir)")
    run.add_argument("--tools", default=None, help="all (default: tools.enabled) or a comma-separated list")
    run.add_argument("--out", default=None, help="evidence Parquet file (default: DATA/evidence.parquet)")
    run.add_argument("--split", action="append", default=None, help="only this split (repeatable)")
    run.add_argument("--workers", type=int, default=None, help="worker actors (default: tools.num_actors)")
    run.set_defaults(handler=run_tools)


def _tool_names(spec: str | None, enabled: list[str]) -> list[str]:
    import audiorouter.tools as tools

    return tools.resolve_tools(spec if spec is not None else (enabled or "all"))


def list_tools(args: argparse.Namespace) -> int:
    import audiorouter.tools as tools

    for name in tools.visible_tools():
        cls = tools.TOOLS.get(name)
        reason = cls.unavailable_reason()
        status = "ok" if reason is None else f"unavailable: {reason}"
        print(f"{name:<12} v{cls.version:<4} {cls.description}  [{status}]")
    return 0


def analyse_file(args: argparse.Namespace) -> int:
    """Only the window the tools analyse (``tools.max_duration_s``) is decoded, as the
    server reads an upload; a result on the window of a longer file says so."""
    from audiorouter.data.audio_io import AudioError, read_clip
    from audiorouter.tool_execution.runner import ToolRunner

    config = load_checked(args.config, args.overrides)
    names = _tool_names(args.tools, config.tools.enabled)
    try:
        clip = read_clip(args.audio, config.tools.max_duration_s, config.tools.long_clips)
    except AudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    results = [result for result, _ in ToolRunner.from_config(config.tools).run_clip(clip, names)]
    for result in results:
        if args.json:
            print(json.dumps(asdict(result)))
        else:
            text = result.summary if result.ok else f"ERROR {result.error}"
            print(f"{result.tool:<12} {text}  [{result.elapsed_ms:.0f} ms]")
    return 0 if all(r.ok for r in results) else 1


def run_tools(args: argparse.Namespace) -> int:
    from audiorouter.tool_execution.batch import run_batch

    config = load_checked(args.config, args.overrides)
    names = _tool_names(args.tools, config.tools.enabled)
    data_dir = Path(args.data or config.data.dir)
    out = Path(args.out) if args.out else data_dir / "evidence.parquet"
    with ray_running():
        report = run_batch(data_dir, out, names, config.tools, splits=args.split, workers=args.workers)
    print(report.render())
    return 0
