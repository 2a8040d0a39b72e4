"""Tool executors on Ray: a pool of actors that run tools on clips.

* Each clip that needs work is put in the object store once (``ray.put``); every tool
  call for it passes the same reference, so the samples are shared, not copied per call.
* One call per (clip, tool) goes to an idle actor; each actor runs one call at a time,
  so the per-call deadline (``timeout_s``) counts from when the call starts.
* A call past its deadline, an actor that dies (segfault, OOM) or a task error becomes
  ``ToolResult(ok=False, error=...)``; the actor is killed and replaced, and the other
  calls carry on. Nothing is raised to the caller.
* The result cache is read before anything is sent and written after, by the pool.
* Tools with ``uses_gpu`` go to GPU actors when ``gpu_actors > 0``, else to CPU actors.

The caller starts Ray (``ray.init``) before building a pool.
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import ray
from ray.exceptions import GetTimeoutError, RayActorError, RayError

from audiorouter.contracts import ToolResult
from audiorouter.tools.base import TOOLS, get_tool, resolve_tools
from audiorouter.tools.cache import ToolCache
from audiorouter.tools.inputs import ClipLimits
from audiorouter.tools.runner import call_with_timeout, error_result, safe_clip_key

log = logging.getLogger(__name__)
MAX_FAILED_STARTS = 5  # replacement actors that may fail to start before a slot is given up


@ray.remote(max_restarts=0)
class ToolExecutor:
    """Runs one tool call at a time in its own process; models load once per actor."""

    def __init__(self, limits: ClipLimits) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import audiorouter.tools  # noqa: F401  (registers every tool in this process)

        self.limits = limits

    def run(self, tool: str, clip: tuple[np.ndarray, int]) -> ToolResult:
        waveform, sample_rate = clip
        return call_with_timeout(tool, waveform, sample_rate, self.limits, None)

    def warmup(self, tools: list[str]) -> list[str]:
        """Load models and compile kernels on one second of quiet noise."""
        noise = (np.random.default_rng(0).standard_normal(16_000) * 0.01).astype(np.float32)
        for tool in tools:
            get_tool(tool).run(noise, 16_000, self.limits)
        return tools


@dataclass
class _Call:
    clip: int
    slot: int  # position in the tool list
    tool: str


@dataclass
class _Slot:
    actor: Any
    group: str
    starting: Any = None  # the warm-up ObjectRef of an actor that is starting
    busy: Any = None  # the ObjectRef of the call in flight
    call: _Call | None = None
    deadline: float = 0.0


@dataclass
class PoolStats:
    computed: int = 0
    failed: int = 0
    timeouts: int = 0
    actor_restarts: int = 0
    failed_starts: int = 0
    cache: dict[str, int] = field(default_factory=dict)


class ToolExecutorPool:
    """Actors start (and warm up) before the pool is returned and before a replacement
    takes calls, so a call's deadline never includes process start-up."""

    def __init__(self, config: Any, cache: ToolCache | None = None, warm: list[str] | None = None,
                 startup_timeout_s: float = 600.0) -> None:
        """From a ``ToolsConfig``; ``cache`` defaults to one at ``config.cache_dir``; the
        ``warm`` tools run once on every actor at start (models load, kernels compile)."""
        self.config = config
        self.limits = ClipLimits.from_config(config)
        self.cache = cache if cache is not None else (ToolCache(config.cache_dir) if config.cache_dir else None)
        self.stats = PoolStats()
        self.startup_timeout_s = startup_timeout_s
        self._warm = resolve_tools(warm) if warm else []
        self._slots = [self._start(g) for g in ["cpu"] * config.num_actors + ["gpu"] * config.gpu_actors]
        ray.get([slot.starting for slot in self._slots], timeout=startup_timeout_s)
        for slot in self._slots:
            slot.starting = None

    def _start(self, group: str) -> _Slot:
        options = {"num_cpus": self.config.actor_num_cpus, "max_concurrency": 1}
        if group == "gpu":
            options["num_gpus"] = self.config.gpu_per_actor
        actor = ToolExecutor.options(**options).remote(self.limits)
        return _Slot(actor, group, starting=actor.warmup.remote([t for t in self._warm if self._group_of(t) == group]))

    def _group_of(self, tool: str) -> str:
        gpu = tool in TOOLS and TOOLS[tool].uses_gpu and self.config.gpu_actors > 0
        return "gpu" if gpu else "cpu"

    def run(self, waveform: np.ndarray, sample_rate: int, tools: list[str]) -> list[ToolResult]:
        return self.run_many([(waveform, sample_rate)], tools)[0]

    def run_many(self, clips: Sequence[tuple[np.ndarray, int]], tools: list[str]) -> list[list[ToolResult]]:
        """Results per clip, one per tool in order. Never raises for bad clips or tools."""
        results: list[list[ToolResult | None]] = [[None] * len(tools) for _ in clips]
        keys = [safe_clip_key(w, sr, self.limits) if self.cache is not None else None for w, sr in clips]
        queues: dict[str, deque[_Call]] = {"cpu": deque(), "gpu": deque()}
        for i in range(len(clips)):
            for j, tool in enumerate(tools):
                cached = self._lookup(keys[i], tool)
                if cached is not None:
                    results[i][j] = cached
                else:
                    queues[self._group_of(tool)].append(_Call(i, j, tool))
        calls = [c for q in queues.values() for c in q]
        refs = {i: ray.put((clips[i][0], clips[i][1])) for i in {c.clip for c in calls}}  # once per clip
        self._drain(queues, refs, results)
        for call in calls:
            if self.cache is not None and keys[call.clip] is not None:
                self.cache.put(keys[call.clip], results[call.clip][call.slot])  # ok results only
        if self.cache is not None:
            self.stats.cache = self.cache.stats()
        return results  # type: ignore[return-value]

    def _lookup(self, key: str | None, tool: str) -> ToolResult | None:
        if key is None or self.cache is None or tool not in TOOLS:
            return None
        return self.cache.get(key, tool, TOOLS[tool].version)

    def _drain(self, queues: dict[str, deque[_Call]], refs: dict[int, Any], results: list[list]) -> None:
        while any(queues.values()) or any(s.busy is not None for s in self._slots):
            for group, queue in queues.items():
                while queue and not any(s.group == group for s in self._slots):
                    call = queue.popleft()  # every actor of this group failed to start
                    results[call.clip][call.slot] = error_result(call.tool, "no tool executor could start")
            for slot in self._slots:
                if slot.busy is None and slot.starting is None and queues[slot.group]:
                    call = queues[slot.group].popleft()
                    slot.busy = slot.actor.run.remote(call.tool, refs[call.clip])
                    slot.call, slot.deadline = call, time.monotonic() + self.config.timeout_s
            busy = [s for s in self._slots if s.busy is not None]
            starting = [s for s in self._slots if s.starting is not None]
            deadlines = [s.deadline for s in busy] + [s.deadline for s in starting]
            wait_s = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
            waiting = [s.busy for s in busy] + [s.starting for s in starting]
            if not waiting:
                continue
            ready, _ = ray.wait(waiting, num_returns=1, timeout=wait_s)
            now = time.monotonic()
            for slot in starting:
                if slot.starting in ready or now >= slot.deadline:
                    self._started(slot, ready)
            for slot in busy:
                if slot.busy in ready:
                    self._collect(slot, results)
                elif now >= slot.deadline:
                    self._expire(slot, results)

    def _started(self, slot: _Slot, ready: list) -> None:
        """A replacement actor finished warming up (or failed to): it takes calls again,
        or is replaced once more."""
        try:
            ray.get(slot.starting, timeout=0 if slot.starting in ready else 0.001)
            slot.starting = None
        except (RayError, GetTimeoutError) as exc:
            self.stats.failed_starts += 1
            log.error("a replacement tool actor did not start (%d so far): %s", self.stats.failed_starts, exc)
            if self.stats.failed_starts <= MAX_FAILED_STARTS:
                self._replace(slot)
            else:  # something is broken for good: stop retrying, fail this slot's calls
                ray.kill(slot.actor, no_restart=True)
                self._slots.remove(slot)

    def _collect(self, slot: _Slot, results: list[list]) -> None:
        call = slot.call
        try:
            result = ray.get(slot.busy, timeout=30.0)
            self.stats.computed += 1
        except (RayActorError, GetTimeoutError) as exc:
            log.error("tool actor died running %s: %s", call.tool, exc)
            result = error_result(call.tool, f"executor died: {type(exc).__name__}")
            self._replace(slot)
        except RayError as exc:
            log.error("tool call %s failed in Ray: %s", call.tool, exc)
            result = error_result(call.tool, f"executor error: {type(exc).__name__}: {exc}")
        if not result.ok:
            self.stats.failed += 1
        results[call.clip][call.slot] = result
        slot.busy, slot.call = None, None

    def _expire(self, slot: _Slot, results: list[list]) -> None:
        call = slot.call
        log.error("tool %s passed its %g s limit; replacing its actor", call.tool, self.config.timeout_s)
        results[call.clip][call.slot] = error_result(
            call.tool, f"timeout: no result within {self.config.timeout_s:g} s", self.config.timeout_s * 1000.0
        )
        self.stats.timeouts += 1
        self.stats.failed += 1
        self._replace(slot)

    def _replace(self, slot: _Slot) -> None:
        ray.kill(slot.actor, no_restart=True)
        fresh = self._start(slot.group)
        slot.actor, slot.starting, slot.busy, slot.call = fresh.actor, fresh.starting, None, None
        slot.deadline = time.monotonic() + self.startup_timeout_s
        self.stats.actor_restarts += 1

    def shutdown(self) -> None:
        for slot in self._slots:
            ray.kill(slot.actor, no_restart=True)
        self._slots = []
