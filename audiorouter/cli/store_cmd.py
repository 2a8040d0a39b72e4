"""``audiorouter store info|stop|export-memo|import-memo``.

``info`` and ``stop``: the cluster's outcome and tool-result services.

With ``reasoner.memo_store`` / ``tools.cache_store`` set to "service", one detached actor
per store keeps its SQLite file on the head node (``audiorouter.store.service``) and
outlives the jobs that use it. ``info`` shows where each runs and what it holds; ``stop``
ends them (the files stay; the next run starts them again).

``export-memo DIR`` writes the outcome memo's rows that no shard in DIR holds into a new
shard; ``import-memo DIR`` puts the shards' rows the memo lacks into it
(``audiorouter.store.memo_shards``): how the LM study's model time outlives a machine.
"""

from __future__ import annotations

import argparse
import json

from audiorouter.cli.common import add_leaf, load_checked


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("store", help="the cluster's outcome memo and tool-cache services")
    sub = parser.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    add_leaf(sub, "info", help="where each running service keeps its file, its calls and rows").set_defaults(
        handler=show_info)
    add_leaf(sub, "stop", help="stop the services (their files stay)").set_defaults(handler=stop)
    for name, handler, text in (("export-memo", export_memo, "write the memo's rows no shard in DIR holds "
                                                            "into a new shard there"),
                                ("import-memo", import_memo, "put the rows of DIR's shards the memo lacks into it")):
        leaf = add_leaf(sub, name, help=text)
        leaf.add_argument("folder", metavar="DIR", help="folder of part-NNNN.jsonl.gz shards")
        leaf.set_defaults(handler=handler)


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


def _sqlite_memo(args: argparse.Namespace):
    from audiorouter.config import ConfigError
    from audiorouter.store import OutcomeMemo

    reasoner = load_checked(args.config, args.overrides).reasoner
    if not reasoner.memo_path or reasoner.memo_store != "sqlite":
        raise ConfigError("export-memo and import-memo work on a memo file: set reasoner.memo_path "
                          "with reasoner.memo_store: sqlite")
    return OutcomeMemo(reasoner.memo_path)


def export_memo(args: argparse.Namespace) -> int:
    from audiorouter.store.memo_shards import export_new_rows

    memo = _sqlite_memo(args)
    try:
        path, rows = export_new_rows(memo, args.folder)
    finally:
        memo.close()
    print(f"{rows} new rows written to {path}" if path else f"every row of {memo.path} is already in {args.folder}")
    return 0


def import_memo(args: argparse.Namespace) -> int:
    from audiorouter.store.memo_shards import import_shards

    memo = _sqlite_memo(args)
    try:
        added = import_shards(memo, args.folder)
        total = len(memo)
    finally:
        memo.close()
    print(f"{added} rows added to {memo.path} ({total} in all)")
    return 0
