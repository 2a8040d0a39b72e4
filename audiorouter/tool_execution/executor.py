"""Tool executors on Ray: a pool of actors that run tools on clips, the one way tools run
across a cluster (the driver's tool pass and ``tools run`` over a dataset, see
``item_evidence.evidence_on_pool``).

* Each clip that needs work is put in the object store once (``ray.put``); every tool
  call for it passes the same reference, so the samples are shared, not copied per call.
* One call per (clip, tool) goes to an idle actor; each actor runs one call at a time
  in its tool process (``process.ToolProcess``), whose hard per-call limit (``timeout_s``)
  counts from when the call starts.
* A tool that crashes its process (segfault, OOM kill), while warming up or during a
  call, costs that call an error result naming the tool and the cause; the actor
  starts a fresh process. After ``max_crashes`` crashes the tool is disabled for the
  rest of the pool's life (``health.disabled``, one warning); its calls are answered
  with an error at once. An actor that dies itself is killed and replaced (a bounded
  number of times); calls past the pool's backstop deadline likewise.
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
from audiorouter.store import open_tool_cache
from audiorouter.store.tool_cache import ToolCache
from audiorouter.tool_execution.health import ToolHealth
from audiorouter.tool_execution.numba_cache import ensure_warm
from audiorouter.tool_execution.process import ToolProcess
from audiorouter.tool_execution.runner import safe_clip_key
from audiorouter.tools.base import TOOLS, error_result, load_tool_plugins, resolve_tools
from audiorouter.tools.inputs import ClipLimits
from audiorouter.tools.probe_signals import SR, quiet_noise

log = logging.getLogger(__name__)
MAX_FAILED_STARTS = 5  # replacement actors that may fail to start before a slot is given up
BACKSTOP_GRACE_S = 120.0  # beyond timeout_s: a tool process restart, then the actor itself is stuck


@ray.remote(max_restarts=0)
class ToolExecutor:
    """Runs one tool call at a time in its tool process; models load once per process."""

    def __init__(self, limits: ClipLimits, timeout_s: float, plugins: tuple[str, ...] = ()) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        load_tool_plugins(plugins)  # their names and versions, for the error results made here
        self.timeout_s = timeout_s
        self.process = ToolProcess(limits, plugins)  # the pool counts crashes and disables tools

    def run(self, tool: str, clip: tuple[np.ndarray, int]) -> tuple[ToolResult, bool]:
        """(result, whether the tool crashed its process)."""
        waveform, sample_rate = clip
        return self.process.call(tool, waveform, sample_rate, self.timeout_s)

    def warmup(self, tools: list[str]) -> list[tuple[str, str]]:
        """Load models and compile kernels on one second of quiet noise; (tool, cause)
        for each tool that crashed its process meanwhile."""
        crashed = []
        for tool in tools:
            result, died = self.process.call(tool, quiet_noise(), SR, self.timeout_s)
            if died:
                crashed.append((tool, result.error or ""))
        return crashed


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
    crashes: int = 0  # tool processes that died (each counted against its tool)
    actor_restarts: int = 0
    failed_starts: int = 0
    cache: dict[str, int] = field(default_factory=dict)


class ToolExecutorPool:
    """Actors start (and warm up) before the pool is returned, or with ``lazy`` before the
    first call the cache cannot answer, and before a replacement takes calls, so a call's
    deadline never includes process start-up."""

    def __init__(self, config: Any, cache: ToolCache | None = None, warm: list[str] | None = None,
                 startup_timeout_s: float = 600.0, lazy: bool = False) -> None:
        """From a ``ToolsConfig``; ``cache`` defaults to one at ``config.cache_dir``; the
        ``warm`` tools run once on every actor at start (models load, kernels compile).
        ``lazy``: no actor starts until a call misses the cache (a rerun whose results are
        all cached then costs no process start-up at all)."""
        self.config = config
        self.limits = ClipLimits.from_config(config)
        self.cache = cache if cache is not None else open_tool_cache(config)
        self.stats = PoolStats()
        self.health = ToolHealth(config.max_crashes)
        self.startup_timeout_s = startup_timeout_s
        load_tool_plugins(config.plugins)
        self._warm = resolve_tools(warm) if warm else []
        self._slots: list[_Slot] = []
        self._launched = False
        if not lazy:
            self._launch()

    @property
    def launched(self) -> bool:
        """Whether the actors were started (a lazy pool whose calls all hit the cache never starts them)."""
        return self._launched

    def _launch(self) -> None:
        """Start every actor and wait until each has warmed up or failed to start."""
        self._launched = True
        ensure_warm()  # numba kernels compiled once, here, before any actor starts
        self._slots = [self._start(g) for g in ["cpu"] * self.config.num_actors + ["gpu"] * self.config.gpu_actors]
        while any(slot.starting is not None for slot in self._slots):
            starting = [slot.starting for slot in self._slots if slot.starting is not None]
            ready, _ = ray.wait(starting, num_returns=1, timeout=self.startup_timeout_s)
            for slot in [s for s in self._slots if s.starting is not None]:
                if slot.starting in ready or time.monotonic() >= slot.deadline:
                    self._started(slot, ready)

    @property
    def disabled(self) -> dict[str, str]:
        """Tools disabled after repeated crashes, with why."""
        return dict(self.health.disabled)

    def _start(self, group: str) -> _Slot:
        options: dict[str, Any] = {"num_cpus": self.config.actor_num_cpus, "max_concurrency": 1}
        if group == "gpu":
            options["num_gpus"] = self.config.gpu_per_actor  # lands where GPUs are; no marker needed
        else:
            options["resources"] = dict(self.config.actor_resources)
        actor = ToolExecutor.options(**options).remote(self.limits, self.config.timeout_s, tuple(self.config.plugins))
        tools = [t for t in self._warm if self._group_of(t) == group and t not in self.health.disabled]
        return _Slot(actor, group, starting=actor.warmup.remote(tools),
                     deadline=time.monotonic() + self.startup_timeout_s)

    def _group_of(self, tool: str) -> str:
        gpu = tool in TOOLS and TOOLS.get(tool).uses_gpu and self.config.gpu_actors > 0
        return "gpu" if gpu else "cpu"

    def run(self, waveform: np.ndarray, sample_rate: int, tools: list[str]) -> list[ToolResult]:
        return self.run_many([(waveform, sample_rate)], tools)[0]

    def run_many(self, clips: Sequence[tuple[np.ndarray, int]], tools: list[str]) -> list[list[ToolResult]]:
        """Results per clip, one per tool in order. Never raises for bad clips or tools."""
        return [[result for result, _ in row] for row in self.run_many_with_cache_flags(clips, tools)]

    def run_many_with_cache_flags(self, clips: Sequence[tuple[np.ndarray, int]],
                                  tools: list[str]) -> list[list[tuple[ToolResult, bool]]]:
        """Like ``run_many``, with whether each result came from the cache."""
        results: list[list[ToolResult | None]] = [[None] * len(tools) for _ in clips]
        keys = [safe_clip_key(w, sr, self.limits) if self.cache is not None else None for w, sr in clips]
        queues: dict[str, deque[_Call]] = {"cpu": deque(), "gpu": deque()}
        cached = self._lookup(keys, tools)
        for i in range(len(clips)):
            for j, tool in enumerate(tools):
                hit = cached.get((keys[i], tool, TOOLS.get(tool).version_for(self.limits))) if tool in TOOLS else None
                if hit is not None:
                    results[i][j] = hit
                else:
                    queues[self._group_of(tool)].append(_Call(i, j, tool))
        calls = [c for q in queues.values() for c in q]
        if calls and not self._launched:
            self._launch()
        refs = {i: ray.put((clips[i][0], clips[i][1])) for i in {c.clip for c in calls}}  # once per clip
        self._drain(queues, refs, results)
        if self.cache is not None:
            self.cache.put_many([((keys[c.clip], c.tool, TOOLS.get(c.tool).version_for(self.limits)), results[c.clip][c.slot])
                                 for c in calls if keys[c.clip] is not None and c.tool in TOOLS])  # ok ones only
            self.stats.cache = self.cache.stats()
        computed = {(c.clip, c.slot) for c in calls}
        return [[(result, (i, j) not in computed) for j, result in enumerate(row)]  # type: ignore[misc]
                for i, row in enumerate(results)]

    def _lookup(self, keys: list[str | None], tools: list[str]) -> dict:
        """Cached results of every (clip, tool) in one batched read."""
        if self.cache is None:
            return {}
        wanted = [(key, tool, TOOLS.get(tool).version_for(self.limits)) for key in keys if key is not None for tool in tools if tool in TOOLS]
        return self.cache.get_many(wanted)

    def _next_call(self, queue: deque[_Call], results: list[list]) -> _Call | None:
        """The next call that may run; calls to disabled tools are answered on the way."""
        while queue:
            call = queue.popleft()
            refused = self.health.refusal(call.tool)
            if refused is None:
                return call
            results[call.clip][call.slot] = refused
            self.stats.failed += 1
        return None

    def _drain(self, queues: dict[str, deque[_Call]], refs: dict[int, Any], results: list[list]) -> None:
        while any(queues.values()) or any(s.busy is not None for s in self._slots):
            for group, queue in queues.items():
                while queue and not any(s.group == group for s in self._slots):
                    call = queue.popleft()  # every actor of this group failed to start
                    results[call.clip][call.slot] = error_result(call.tool, "no tool executor could start")
            for slot in self._slots:
                if slot.busy is None and slot.starting is None and queues[slot.group]:
                    call = self._next_call(queues[slot.group], results)
                    if call is None:
                        continue
                    slot.busy = slot.actor.run.remote(call.tool, refs[call.clip])
                    slot.call = call
                    slot.deadline = time.monotonic() + self.config.timeout_s + BACKSTOP_GRACE_S
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
        """An actor finished warming up (tools that crashed meanwhile are counted), or
        failed to: then it is replaced, a bounded number of times."""
        try:
            crashed = ray.get(slot.starting, timeout=0 if slot.starting in ready else 0.001)
            slot.starting = None
            for tool, cause in crashed:
                self._crashed(tool, f"while warming up: {cause}")
        except (RayError, GetTimeoutError) as exc:
            self.stats.failed_starts += 1
            log.error("a tool actor did not start (%d so far): %s", self.stats.failed_starts, exc)
            if self.stats.failed_starts <= MAX_FAILED_STARTS:
                self._replace(slot)
            else:  # something is broken for good: stop retrying, fail this slot's calls
                ray.kill(slot.actor, no_restart=True)
                self._slots.remove(slot)

    def _crashed(self, tool: str, cause: str) -> None:
        self.stats.crashes += 1
        self.health.record_crash(tool, cause)

    def _collect(self, slot: _Slot, results: list[list]) -> None:
        call = slot.call
        try:
            result, crashed = ray.get(slot.busy, timeout=30.0)
            self.stats.computed += 1
            if crashed:
                self._crashed(call.tool, result.error or "")
        except (RayActorError, GetTimeoutError) as exc:
            log.error("tool actor died running %s: %s", call.tool, exc)
            result = error_result(call.tool, f"crashed: its executor died ({type(exc).__name__})")
            self._crashed(call.tool, f"executor died: {type(exc).__name__}")
            self._replace(slot)
        except RayError as exc:
            log.error("tool call %s failed in Ray: %s", call.tool, exc)
            result = error_result(call.tool, f"executor error: {type(exc).__name__}: {exc}")
        if not result.ok:
            self.stats.failed += 1
            self.stats.timeouts += (result.error or "").startswith("timeout")
        results[call.clip][call.slot] = result
        slot.busy, slot.call = None, None

    def _expire(self, slot: _Slot, results: list[list]) -> None:
        call = slot.call
        limit = self.config.timeout_s + BACKSTOP_GRACE_S
        log.error("tool actor running %s gave no answer within %g s; replacing it", call.tool, limit)
        results[call.clip][call.slot] = error_result(call.tool, f"timeout: its executor gave no answer within {limit:g} s",
                                                     limit * 1000.0)
        self.stats.timeouts += 1
        self.stats.failed += 1
        self._replace(slot)

    def _replace(self, slot: _Slot) -> None:
        ray.kill(slot.actor, no_restart=True)
        fresh = self._start(slot.group)
        slot.actor, slot.starting, slot.busy, slot.call = fresh.actor, fresh.starting, None, None
        slot.deadline = fresh.deadline
        self.stats.actor_restarts += 1

    def shutdown(self) -> None:
        for slot in self._slots:
            ray.kill(slot.actor, no_restart=True)
        self._slots = []

    def __enter__(self) -> ToolExecutorPool:
        return self

    def __exit__(self, *_: object) -> None:
        self.shutdown()
