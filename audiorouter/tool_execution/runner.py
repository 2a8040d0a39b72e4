"""Run tools on clips: cache first, then the tool in a child process, under a hard limit.

``ToolRunner`` is what every in-place tool user has (rollout workers, the Serve app,
the inference tools stage's workers, ``tools analyse``); runs over many items go to the
actor pool instead (``executor``). The tools themselves run in a ``process.ToolProcess``
child: a tool that segfaults, is OOM-killed or hangs past ``timeout_s`` costs that one
call (an error result naming the tool and the cause), the next call gets a fresh
child, and a tool that crashes ``max_crashes`` times is disabled for the rest of the
run (``health``).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from audiorouter.contracts import SAMPLE_RATE, ToolResult
from audiorouter.data.audio_io import Clip
from audiorouter.store import open_tool_cache
from audiorouter.store.tool_cache import ToolCache
from audiorouter.tool_execution.health import ToolHealth
from audiorouter.tool_execution.process import ToolProcess
from audiorouter.tools.base import TOOLS, error_result, load_tool_plugins
from audiorouter.tools.inputs import ClipLimits, clip_key, note_window

log = logging.getLogger(__name__)


def safe_clip_key(waveform: Any, sample_rate: Any, limits: ClipLimits) -> str | None:
    """The cache key, or None for input that cannot even be hashed (never cached)."""
    try:
        return clip_key(np.asarray(waveform), int(sample_rate), limits)
    except Exception as exc:  # the tools themselves will report what is wrong
        log.debug("clip cannot be hashed: %s", exc)
        return None


class ToolRunner:
    def __init__(self, limits: ClipLimits | None = None, cache: ToolCache | None = None,
                 timeout_s: float | None = None, max_crashes: int = 3, plugins: tuple[str, ...] = ()) -> None:
        load_tool_plugins(plugins)
        self.limits = limits or ClipLimits()
        self.cache = cache
        self.timeout_s = timeout_s
        self.health = ToolHealth(max_crashes)
        self.process = ToolProcess(self.limits, tuple(plugins))

    @classmethod
    def from_config(cls, config: Any) -> ToolRunner:
        """From a ``ToolsConfig``."""
        cache = open_tool_cache(config)
        return cls(ClipLimits.from_config(config), cache, config.timeout_s, config.max_crashes,
                   tuple(config.plugins))

    def run(self, waveform: np.ndarray, sample_rate: int, tools: list[str]) -> list[ToolResult]:
        """One result per tool, in order; never raises for bad audio or a bad tool."""
        return [result for result, _ in self.run_with_cache_flags(waveform, sample_rate, tools)]

    def run_with_cache_flags(self, waveform: np.ndarray, sample_rate: int,
                             tools: list[str]) -> list[tuple[ToolResult, bool]]:
        """Like ``run``, with whether each result came from the cache."""
        key = safe_clip_key(waveform, sample_rate, self.limits) if self.cache is not None else None
        cached = self._lookup(key, tools)
        out = []
        for tool in tools:
            if tool in cached:
                out.append((cached[tool], True))
                continue
            result, _ = self.call(tool, waveform, sample_rate)
            self._store(key, result)
            out.append((result, False))
        return out

    def run_clip(self, clip: Clip, tools: list[str]) -> list[tuple[ToolResult, bool]]:
        """``run_with_cache_flags`` on the window ``read_clip`` took of a file; a result on
        the window of a longer file says so (``inputs.note_window``)."""
        return [(note_window(result, clip), cached)
                for result, cached in self.run_with_cache_flags(clip.waveform, SAMPLE_RATE, tools)]

    def call(self, tool: str, waveform: np.ndarray, sample_rate: int) -> tuple[ToolResult, bool]:
        """One uncached call in the child process: (result, whether it crashed)."""
        refused = self.health.refusal(tool) if tool in TOOLS else error_result(tool, f"unknown tool {tool!r}")
        if refused is not None:
            return refused, False
        result, crashed = self.process.call(tool, waveform, sample_rate, self.timeout_s)
        if crashed:
            self.health.record_crash(tool, result.error or "")
        return result, crashed

    def close(self) -> None:
        self.process.stop()

    def _lookup(self, key: str | None, tools: list[str]) -> dict[str, ToolResult]:
        """The clip's cached results by tool, in one batched read."""
        if key is None or self.cache is None:
            return {}
        found = self.cache.get_many([(key, t, TOOLS.get(t).version_for(self.limits)) for t in tools if t in TOOLS])
        return {tool: result for (_, tool, _), result in found.items()}

    def _store(self, key: str | None, result: ToolResult) -> None:
        if key is None or self.cache is None:
            return
        try:
            self.cache.put(key, result)
        except Exception as exc:  # a full disk must not turn a good result into a crash
            log.warning("could not cache %s result: %s", result.tool, exc)
