"""``audiorouter cluster plan``: what a config asks of a cluster, phase by phase, and
whether a cluster manifest (KubeRay RayCluster or cluster-launcher config) can hold it."""

from __future__ import annotations

import argparse
from pathlib import Path

from audiorouter.cli.common import add_leaf, load_checked


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("cluster", help="size a cluster for a config")
    sub = parser.add_subparsers(dest="cluster_command", metavar="ACTION", required=True)
    plan = add_leaf(sub, "plan", help="resources each phase asks for; with --manifest, where it lands")
    plan.add_argument("--job", choices=("train", "study"), default="train")
    plan.add_argument("--manifest", help="a RayCluster or cluster-launcher YAML to pack the phases onto")
    plan.set_defaults(handler=show_plan)


def show_plan(args: argparse.Namespace) -> int:
    import yaml

    from audiorouter.cluster.placement import PlanError, nodes_from_manifest, pack, phase_demands, totals

    config = load_checked(args.config, args.overrides)
    nodes = nodes_from_manifest(yaml.safe_load(Path(args.manifest).read_text())) if args.manifest else None
    status = 0
    for phase, bundles in phase_demands(config, args.job).items():
        need = ", ".join(f"{k} {v:g}" for k, v in totals(bundles).items())
        print(f"{phase}: {len(bundles)} actors; {need}")
        if nodes is None:
            continue
        try:
            placed = pack(bundles, nodes)
        except PlanError as exc:
            print(f"  does not fit: {exc}")
            status = 1
            continue
        for node in dict.fromkeys(name for _, name in placed):
            roles = [b.role for b, name in placed if name == node]
            print(f"  {node}: " + ", ".join(f"{roles.count(r)} {r}" for r in dict.fromkeys(roles)))
    return status
