"""``audiorouter store info|stop``: the cluster's outcome and tool-result services.

With ``reasoner.memo_store`` / ``tools.cache_store`` set to "service", one detached actor
per store keeps its SQLite file on the head node (``audiorouter.store.service``) and
outlives the jobs that use it. ``info`` shows where each runs and what it holds; ``stop``
ends them (the files stay; the next run starts them again).
"""

from __future__ import annotations

import argparse
import json

from audiorouter.cli.common import add_leaf


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("store", help="the cluster's outcome memo and tool-cache services")
    sub = parser.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    add_leaf(sub, "info", help="where each running service keeps its file, its calls and rows").set_defaults(
        handler=show_info)
    add_leaf(sub, "stop", help="stop the services (their files stay)").set_defaults(handler=stop)


def show_info(args: argparse.Namespace) -> int:
    import ray

    from audiorouter.cluster.session import ray_running
    from audiorouter.store.service import KINDS, NAMESPACE, service_name

    with ray_running():
        for kind in KINDS:
            try:
                handle = ray.get_actor(service_name(kind), namespace=NAMESPACE)
            except ValueError:
                print(json.dumps({"kind": kind, "running": False}))
                continue
            info = ray.get(handle.info.remote()) | {"rows": ray.get(handle.count.remote()), "running": True}
            print(json.dumps(info))
    return 0


def stop(args: argparse.Namespace) -> int:
    from audiorouter.cluster.session import ray_running
    from audiorouter.store.service import KINDS, stop_service

    with ray_running():
        for kind in KINDS:
            print(f"{kind}: {'stopped' if stop_service(kind) else 'not running'}")
    return 0
