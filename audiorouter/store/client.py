"""Clients of the cluster store (``store.service``), with the interfaces of the local files.

``ServiceOutcomeMemo`` stands where ``OutcomeMemo`` stands and ``ServiceToolCache`` where
``ToolCache`` stands, so the reasoner, the tool runners and the executor pool do not know
which one they use. Each client:

* keeps a bounded read-through cache in its own process (values are frozen: a stored
  outcome or tool result never changes), so a hot key costs one round trip per process;
* sends one ``get_many`` per batch for the keys it does not hold, and one ``put_many``;
* retries while the service restarts (``RETRY_S`` in all, then raises): a call the
  service acknowledged is committed, and one that failed is simply sent again.

Clients pickle as (kind, path): a rollout worker on another node reopens the handle.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import Any

from audiorouter.store.service import start_service

log = logging.getLogger(__name__)
RETRY_S = 120.0  # how long a call waits for a restarting service before it fails
LOCAL_ENTRIES = 100_000  # per process; outcomes are ~200 bytes, tool results a few kB


class RemoteStore:
    """Batched get/put against the named service of one kind, with a local LRU."""

    def __init__(self, kind: str, path: str, local_entries: int = LOCAL_ENTRIES) -> None:
        self.kind, self.path, self.local_entries = kind, path, local_entries
        self._handle: Any = None
        self._local: OrderedDict[tuple, Any] = OrderedDict()
        self.counts = {"local_hits": 0, "remote_hits": 0, "misses": 0, "writes": 0, "retries": 0}

    def __getstate__(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": self.path, "local_entries": self.local_entries}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["kind"], state["path"], state["local_entries"])

    def get_many(self, keys: list[tuple]) -> dict[tuple, Any]:
        found: dict[tuple, Any] = {}
        wanted = []
        for key in dict.fromkeys(tuple(k) for k in keys):
            if key in self._local:
                self._local.move_to_end(key)
                found[key] = self._local[key]
            else:
                wanted.append(key)
        self.counts["local_hits"] += len(found)
        if wanted:
            values = self._call("get_many", wanted)
            for key, value in zip(wanted, values, strict=True):
                if value is not None:
                    found[key] = value
                    self._remember(key, value)
            self.counts["remote_hits"] += sum(v is not None for v in values)
            self.counts["misses"] += sum(v is None for v in values)
        return found

    def put_many(self, entries: list[tuple[tuple, Any]]) -> None:
        """Returns once the service has committed every entry."""
        if not entries:
            return
        entries = [(tuple(k), v) for k, v in entries]
        self._call("put_many", entries)
        self.counts["writes"] += len(entries)
        for key, value in entries:
            self._remember(key, value)

    def count(self) -> int:
        return int(self._call("count"))

    def _remember(self, key: tuple, value: Any) -> None:
        self._local[key] = value
        self._local.move_to_end(key)
        while len(self._local) > self.local_entries:
            self._local.popitem(last=False)

    def _call(self, method: str, *args: Any) -> Any:
        import ray
        from ray.exceptions import ActorUnavailableError, RayActorError

        deadline = time.monotonic() + RETRY_S
        attempt = 0
        while True:
            try:
                if self._handle is None:
                    self._handle = start_service(self.kind, self.path)
                return ray.get(getattr(self._handle, method).remote(*args))
            except (RayActorError, ActorUnavailableError) as exc:
                # RayActorError: the actor died (killed for good, or its node); Unavailable: restarting
                if time.monotonic() >= deadline:
                    raise RuntimeError(f"the {self.kind} store service did not answer for {RETRY_S:.0f} s: {exc}") from exc
                attempt += 1
                self.counts["retries"] += 1
                log.warning("%s store service unavailable (%s); retry %d", self.kind, type(exc).__name__, attempt)
                self._handle = None  # look it up (or start it) again
                time.sleep(min(0.2 * 2**attempt, 5.0))


class ServiceOutcomeMemo:
    """``OutcomeMemo``'s interface over the cluster's outcome service."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.remote = RemoteStore("outcomes", path)

    def get_many(self, keys: list[tuple[str, str, str]]) -> dict:
        return self.remote.get_many(keys)

    def put_many(self, entries: list) -> None:
        self.remote.put_many(entries)

    def __len__(self) -> int:
        return self.remote.count()

    def close(self) -> None:
        """Nothing to close here: the service owns the file."""


class ServiceToolCache:
    """``ToolCache``'s interface over the cluster's tool-result service."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.remote = RemoteStore("tool_results", directory)

    def get(self, clip: str, tool: str, version: str):
        return self.get_many([(clip, tool, version)]).get((clip, tool, version))

    def get_many(self, keys: list[tuple[str, str, str]]) -> dict:
        return self.remote.get_many(keys)

    def put(self, clip: str, result) -> None:
        self.put_many([((clip, result.tool, result.version), result)])

    def put_many(self, entries: list) -> None:
        self.remote.put_many([(key, result) for key, result in entries if result.ok])  # as ToolCache: ok only

    def stats(self) -> dict[str, int]:
        counts = self.remote.counts
        return {"hits": counts["local_hits"] + counts["remote_hits"], "misses": counts["misses"],
                "writes": counts["writes"]}

    def count(self) -> int:
        return self.remote.count()
