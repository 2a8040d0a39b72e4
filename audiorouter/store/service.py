"""One outcome memo and one tool cache for a whole Ray cluster: a named, detached actor.

On one machine every process opens the SQLite files itself (``OutcomeMemo``,
``ToolCache``). On a cluster that cannot work: SQLite's WAL journal and ``flock`` need a
local file system, so files on shared storage break, and files per node let the same
outcome be computed once per node. ``StoreService`` is the cluster's answer: one actor
per store, pinned to the head node, owns the SQLite file on the head's local disk and
answers batched ``get_many`` / ``put_many`` calls from every process on every node.

* **Named and detached** (``audiorouter-outcomes``, ``audiorouter-tool_results`` in the
  ``audiorouter`` namespace): every job and every node reaches the same one, and it
  outlives the job that started it, so a second run starts warm.
* **Acknowledged means committed**: ``put_many`` returns after the SQLite commit, so an
  outcome a caller was told is stored survives the actor's death (WAL with
  ``synchronous=NORMAL`` is durable against a process crash; not a power loss).
* **Restarted by Ray** (``max_restarts=-1``) on the head node, reopening the same file;
  clients retry calls that failed meanwhile (``store.client``). Every method is
  idempotent (``INSERT OR REPLACE`` of a frozen reasoner's outcome), so a retried call
  cannot do harm.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from audiorouter.store.outcome_memo import OutcomeMemo
from audiorouter.store.tool_cache import ToolCache

KINDS = ("outcomes", "tool_results")
NAMESPACE = "audiorouter"


def service_name(kind: str) -> str:
    return f"audiorouter-{kind}"


class StoreService:
    """One SQLite-backed store behind a Ray actor; keys and values as the store defines."""

    def __init__(self, kind: str, path: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"store kind {kind!r} unknown; valid: {', '.join(KINDS)}")
        self.kind = kind
        self.path = path
        self.calls = {"get_many": 0, "put_many": 0, "keys_read": 0, "entries_written": 0}
        if kind == "outcomes":
            self.store: Any = OutcomeMemo(path)
        else:
            self.store = ToolCache(path)

    def get_many(self, keys: list[tuple]) -> list[Any]:
        """The stored value of each key, or None, in order."""
        self.calls["get_many"] += 1
        self.calls["keys_read"] += len(keys)
        found = self.store.get_many(keys)
        return [found.get(tuple(key)) for key in keys]

    def put_many(self, entries: list[tuple[tuple, Any]]) -> int:
        """Store every entry; returns how many, after they are committed."""
        self.calls["put_many"] += 1
        self.calls["entries_written"] += len(entries)
        self.store.put_many([(tuple(k), v) for k, v in entries])
        return len(entries)

    def count(self) -> int:
        return self.store.count() if self.kind == "tool_results" else len(self.store)

    def info(self) -> dict[str, Any]:
        """Where it runs and what it serves (for clients' checks, tests and the cluster guide, docs/cluster.md)."""
        import ray

        return {"kind": self.kind, "path": self.path, "pid": os.getpid(),
                "node_id": ray.get_runtime_context().get_node_id(), "calls": dict(self.calls)}


def start_service(kind: str, path: str) -> Any:
    """The running service of this kind, or a new one on the head node; refuses a running
    service that keeps its file at another path (two runs would otherwise disagree on where
    their outcomes live)."""
    import ray

    if not Path(path).is_absolute():
        raise ValueError(f"the {kind} service needs an absolute path on the head node, got {path!r}")
    handle = ray.remote(StoreService).options(
        name=service_name(kind), namespace=NAMESPACE, get_if_exists=True, lifetime="detached",
        num_cpus=0, resources={"node:__internal_head__": 0.001},  # the head's disk holds the file
        max_restarts=-1, max_task_retries=-1, max_concurrency=8,
    ).remote(kind, path)
    running = ray.get(handle.info.remote())["path"]
    if running != path:
        raise ValueError(f"the running {service_name(kind)} service keeps its file at {running!r}, "
                         f"not {path!r}: use its path, or stop it first (`audiorouter store stop`)")
    return handle


def stop_service(kind: str) -> bool:
    """Kill the service of this kind (its file stays); whether one was running."""
    import ray

    try:
        handle = ray.get_actor(service_name(kind), namespace=NAMESPACE)
    except ValueError:
        return False
    ray.kill(handle, no_restart=True)
    return True
