"""Run tools on clips in this process: cache first, then the tool, under a time limit.

``ToolRunner`` is what Ray Data batch workers use (and tests and benchmarks); the Ray
actor pool (``executor``) uses the same cache with its own hard timeout.

The time limit here is soft: a call still running after ``timeout_s`` is abandoned in
its daemon thread and reported as an error; Python cannot kill the thread, so a tool
that truly hangs keeps one thread (and that tool's lock) busy in this process. The
actor pool's limit is hard (the actor is killed and replaced).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np

from audiorouter.contracts import ToolResult
from audiorouter.tools.base import TOOLS, get_tool
from audiorouter.tools.cache import ToolCache
from audiorouter.tools.inputs import ClipLimits, clip_key

log = logging.getLogger(__name__)


def error_result(tool: str, error: str, elapsed_ms: float = 0.0) -> ToolResult:
    version = TOOLS[tool].version if tool in TOOLS else "?"
    return ToolResult(tool=tool, version=version, ok=False, error=error, elapsed_ms=elapsed_ms)


def safe_clip_key(waveform: Any, sample_rate: Any, limits: ClipLimits) -> str | None:
    """The cache key, or None for input that cannot even be hashed (never cached)."""
    try:
        return clip_key(np.asarray(waveform), int(sample_rate), limits)
    except Exception as exc:  # the tools themselves will report what is wrong
        log.debug("clip cannot be hashed: %s", exc)
        return None


def call_with_timeout(tool: str, waveform: np.ndarray, sample_rate: int, limits: ClipLimits,
                      timeout_s: float | None) -> ToolResult:
    """``get_tool(tool).run(...)``; an unknown tool or a call over ``timeout_s`` is an error result."""
    if tool not in TOOLS:
        return error_result(tool, f"unknown tool {tool!r}")
    if timeout_s is None:
        return get_tool(tool).run(waveform, sample_rate, limits)
    box: dict[str, ToolResult] = {}
    worker = threading.Thread(
        target=lambda: box.setdefault("result", get_tool(tool).run(waveform, sample_rate, limits)),
        name=f"tool-{tool}", daemon=True,
    )
    worker.start()
    worker.join(timeout_s)
    if "result" not in box:
        log.error("tool %s did not finish within %g s; abandoning the call", tool, timeout_s)
        return error_result(tool, f"timeout: no result within {timeout_s:g} s", timeout_s * 1000.0)
    return box["result"]


class ToolRunner:
    def __init__(self, limits: ClipLimits | None = None, cache: ToolCache | None = None,
                 timeout_s: float | None = None) -> None:
        self.limits = limits or ClipLimits()
        self.cache = cache
        self.timeout_s = timeout_s

    @classmethod
    def from_config(cls, config: Any) -> ToolRunner:
        """From a ``ToolsConfig``."""
        cache = ToolCache(config.cache_dir) if config.cache_dir else None
        return cls(ClipLimits.from_config(config), cache, config.timeout_s)

    def run(self, waveform: np.ndarray, sample_rate: int, tools: list[str]) -> list[ToolResult]:
        """One result per tool, in order; never raises for bad audio or a bad tool."""
        return [result for result, _ in self.run_with_cache_flags(waveform, sample_rate, tools)]

    def run_with_cache_flags(self, waveform: np.ndarray, sample_rate: int,
                             tools: list[str]) -> list[tuple[ToolResult, bool]]:
        """Like ``run``, with whether each result came from the cache."""
        key = safe_clip_key(waveform, sample_rate, self.limits) if self.cache is not None else None
        out = []
        for tool in tools:
            cached = self._lookup(key, tool)
            if cached is not None:
                out.append((cached, True))
                continue
            result = call_with_timeout(tool, waveform, sample_rate, self.limits, self.timeout_s)
            self._store(key, result)
            out.append((result, False))
        return out

    def _lookup(self, key: str | None, tool: str) -> ToolResult | None:
        if key is None or self.cache is None or tool not in TOOLS:
            return None
        return self.cache.get(key, tool, TOOLS[tool].version)

    def _store(self, key: str | None, result: ToolResult) -> None:
        if key is None or self.cache is None:
            return
        try:
            self.cache.put(key, result)
        except Exception as exc:  # a full disk must not turn a good result into a crash
            log.warning("could not cache %s result: %s", result.tool, exc)
