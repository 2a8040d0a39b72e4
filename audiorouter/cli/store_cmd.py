"""``audiorouter store info|stop|export-memo|import-memo|export-tool-cache|import-tool-cache``.

``info`` and ``stop``: the cluster's outcome and tool-result services.

With ``reasoner.memo_store`` / ``tools.cache_store`` set to "service", one detached actor
per store keeps its SQLite file on the head node (``audiorouter.store.service``) and
outlives the jobs that use it. ``info`` shows where each runs and what it holds; ``stop``
ends them (the files stay; the next run starts them again).

``export-memo DIR`` writes the outcome memo's rows that no shard in DIR holds into a new
shard; ``import-memo DIR`` puts the shards' rows the memo lacks into it
(``audiorouter.store.memo_shards``): how the LM study's model time outlives a machine.
``export-tool-cache DIR`` and ``import-tool-cache DIR`` do the same for the tool cache's
results (``audiorouter.store.tool_cache_shards``): how a study's tool pass does.
"""

from __future__ import annotations

import argparse
import json
from contextlib import closing
from dataclasses import dataclass
from types import ModuleType

from audiorouter.cli.common import add_leaf, load_checked
from audiorouter.store import memo_shards, tool_cache_shards


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("store", help="the cluster's outcome memo and tool-cache services")
    sub = parser.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    add_leaf(sub, "info", help="where each running service keeps its file, its calls and rows").set_defaults(
        handler=show_info)
    add_leaf(sub, "stop", help="stop the services (their files stay)").set_defaults(handler=stop)
    for kind, store in SHARDED.items():
        for action, handler, text in (("export", export_shards, f"write the {store.noun} no shard in DIR holds "
                                                                "into a new shard there"),
                                      ("import", import_from_shards, f"put the {store.noun} of DIR's shards that "
                                                                     f"the {store.name} lacks into it")):
            leaf = add_leaf(sub, f"{action}-{kind}", help=text)
            leaf.add_argument("folder", metavar="DIR", help="folder of part-NNNN.jsonl.gz shards")
            leaf.set_defaults(handler=handler, sharded=store)


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


@dataclass(frozen=True)
class ShardedStore:
    """A store whose file's rows go to and come from shards (store.shards)."""

    name: str  # "memo", "tool cache"
    noun: str  # what its rows are: "memo's rows", "tool cache's results"
    section: str  # its config section ...
    path_field: str  # ... the file's field there ...
    store_field: str  # ... and the field that must say "sqlite"
    shards: ModuleType  # its store.*_shards module: open_file, export_new, import_shards

    def open(self, args: argparse.Namespace):
        from audiorouter.config import ConfigError

        section = getattr(load_checked(args.config, args.overrides), self.section)
        path = getattr(section, self.path_field)
        if not path or getattr(section, self.store_field) != "sqlite":
            raise ConfigError(f"export and import of {self.name} shards work on its file: set "
                              f"{self.section}.{self.path_field} with {self.section}.{self.store_field}: sqlite")
        return closing(self.shards.open_file(path))


SHARDED = {"memo": ShardedStore("memo", "memo's rows", "reasoner", "memo_path", "memo_store",
                                memo_shards),
           "tool-cache": ShardedStore("tool cache", "tool cache's results", "tools", "cache_dir", "cache_store",
                                      tool_cache_shards)}


def export_shards(args: argparse.Namespace) -> int:
    store = args.sharded
    with store.open(args) as opened:
        path, rows = store.shards.export_new(opened, args.folder)
        where = opened.path
    print(f"{rows} new rows written to {path}" if path else f"every row of {where} is already in {args.folder}")
    return 0


def import_from_shards(args: argparse.Namespace) -> int:
    store = args.sharded
    with store.open(args) as opened:
        added = store.shards.import_shards(opened, args.folder)
        total, where = len(opened), opened.path
    print(f"{added} rows added to {where} ({total} in all)")
    return 0
