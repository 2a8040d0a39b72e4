"""The tool contract and the tool registry.

A tool is a pure function of the audio. Subclasses set ``name``, ``version`` (bump it
whenever results change: cached results are keyed by it) and ``description`` (one line,
used in prompts and docs), and implement ``analyse(waveform, sample_rate) -> (summary,
data)``. ``Tool.run`` wraps that into a ``ToolResult``: it checks and resamples the input
(see ``inputs.prepare_clip``), times the call and turns any exception into
``ok=False``. Adding a tool is one class plus ``@register_tool``::

    @register_tool
    class Peak(Tool):
        name, version, description = "peak", "1", "peak sample level in dBFS"

        def analyse(self, waveform, sample_rate):
            db = 20 * np.log10(np.abs(waveform).max())
            return f"peak {db:.1f} dBFS", {"peak_dbfs": db}

The registry (``audiorouter.registry``) is read through ``get_tool(name)`` (the
process-wide instance), ``TOOLS.get(name)`` (the class) and ``tool_names()``.
"""

from __future__ import annotations

import atexit
import importlib
import importlib.util
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from audiorouter.config import ConfigError
from audiorouter.contracts import ToolResult
from audiorouter.registry import Registry
from audiorouter.tools.inputs import ClipLimits, prepare_clip

log = logging.getLogger(__name__)

SILENT_SUMMARY = "silent: no sound above -80 dBFS"


class Tool:
    """Base class of every audio tool; ``analyse`` receives 16 kHz mono float32 audio
    that is finite, non-empty, not silent and no longer than the configured cap."""

    name: ClassVar[str]
    version: ClassVar[str]
    description: ClassVar[str]
    uses_gpu: ClassVar[bool] = False  # served by GPU actors when the pool has them
    hidden: ClassVar[bool] = False  # fault-injection tools: never part of "all"
    optional: ClassVar[bool] = False  # an extra (big model): listed after the core tools

    @classmethod
    def unavailable_reason(cls) -> str | None:
        """None when the tool can run on this machine (offline), else why not."""
        return None

    @classmethod
    def version_for(cls, limits: ClipLimits) -> str:
        """The version results carry and are cached under; a tool whose results depend on
        what ``limits`` tells it (``analyse_given``) names that here."""
        return cls.version

    def analyse(self, waveform: np.ndarray, sample_rate: int) -> tuple[str, dict[str, Any]]:
        raise NotImplementedError

    def close(self) -> None:
        """Release what the tool loaded (a model and its native threads); the next
        ``analyse`` loads it again. Called at exit for every instance ``get_tool`` made."""

    def analyse_given(self, waveform: np.ndarray, sample_rate: int, limits: ClipLimits) -> tuple[str, dict[str, Any]]:
        """``analyse``, for a tool that uses what the user knows of the clips (``limits``)."""
        return self.analyse(waveform, sample_rate)

    def run(self, waveform: np.ndarray, sample_rate: int, limits: ClipLimits | None = None) -> ToolResult:
        """Analyse one clip; never raises (a failure is ``ok=False`` with the error)."""
        start = time.perf_counter()
        limits = limits or ClipLimits()
        try:
            clip = prepare_clip(waveform, sample_rate, limits)
            if clip.silent:
                summary, data = SILENT_SUMMARY, {"silent": True}
            else:
                summary, data = self.analyse_given(clip.waveform, clip.sample_rate, limits)
            summary, data = clip.annotate(summary, data)
        except Exception as exc:  # a failing tool is data, never a crash
            log.warning("tool %s failed: %s: %s", self.name, type(exc).__name__, exc)
            return ToolResult(
                tool=self.name, version=self.version_for(limits), ok=False,
                error=f"{type(exc).__name__}: {exc}", elapsed_ms=_ms_since(start),
            )
        return ToolResult(
            tool=self.name, version=self.version_for(limits), ok=True, summary=summary,
            data=to_jsonable(data), elapsed_ms=_ms_since(start),
        )


# The built-in tools' modules, imported on the registry's first use: importing this module
# (or ``audiorouter.tools``) loads no analysis library, so a tool process can switch numba
# to its private cache first (``numba_cache``) and light users pay nothing.
BUILTIN_MODULES = ("asr", "chords", "faults", "loudness", "onsets", "pitch", "segments", "spectral", "speech",
                   "tagger", "tempo")


def _import_builtins() -> None:
    for module in BUILTIN_MODULES:
        importlib.import_module(f"audiorouter.tools.{module}")


TOOLS: Registry[type[Tool]] = Registry("tool", error=ConfigError, load=_import_builtins)  # name -> class


def register_tool(cls: type[Tool]) -> type[Tool]:
    """Class decorator: make ``cls`` available by its ``name``."""
    for attr in ("name", "version", "description"):
        if not isinstance(getattr(cls, attr, None), str) or not getattr(cls, attr):
            raise TypeError(f"tool {cls.__name__} must set a non-empty string {attr!r}")
    return TOOLS.register(cls.name)(cls)


def tool_names() -> list[str]:
    """Every registered tool (the built-ins imported first), hidden ones included."""
    return TOOLS.names()


def load_tool_plugins(plugins: Sequence[str]) -> None:
    """Import modules (``pkg.mod``) or files (``path/to/tools.py``) that register more
    tools. Every process that runs or names tools calls this with the same list (the
    tool processes, the actors), so a plugin's tools exist wherever they are run."""
    for plugin in plugins:
        if not plugin.endswith(".py"):
            importlib.import_module(plugin)
            continue
        path = Path(plugin).resolve()
        if _loaded_from(path):
            continue
        name = f"audiorouter_plugin_{path.stem}_{len(sys.modules)}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or not path.is_file():
            raise ConfigError(f"tool plugin file not found: {plugin}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)


def _loaded_from(path: Path) -> bool:
    """Whether some module of this process was loaded from ``path`` (by any name)."""
    return any(getattr(m, "__file__", None) and Path(m.__file__).resolve() == path for m in list(sys.modules.values()))


_INSTANCES: dict[str, Tool] = {}


def get_tool(name: str) -> Tool:
    """The process-wide instance of a tool (models load once per process)."""
    if name not in _INSTANCES:
        if name not in TOOLS:
            raise ConfigError(f"unknown tool {name!r}; valid: {', '.join(visible_tools())}")
        if not _INSTANCES:
            atexit.register(close_tools)
        _INSTANCES[name] = TOOLS.get(name)()
    return _INSTANCES[name]


def close_tools() -> None:
    """Close every tool instance of this process. Runs at exit, before the interpreter
    tears itself down: a native model (CTranslate2's whisper, an ONNX Runtime session)
    then stops and joins its own worker threads while everything they use still exists,
    instead of being freed during finalisation, or never, with its threads still alive
    while the process's C++ destructors run."""
    while _INSTANCES:
        _, tool = _INSTANCES.popitem()
        try:
            tool.close()
        except Exception as exc:  # closing is best effort: exit goes on
            log.warning("closing tool %s failed: %s: %s", tool.name, type(exc).__name__, exc)


def visible_tools() -> list[str]:
    """Every tool but the hidden ones: core tools first, then optional extras."""
    return sorted((n for n in tool_names() if not TOOLS.get(n).hidden), key=lambda n: TOOLS.get(n).optional)


def available_tools() -> list[str]:
    """Every non-hidden tool that can run here (optional extras only when installed)."""
    usable = []
    for name in visible_tools():
        reason = TOOLS.get(name).unavailable_reason()
        if reason is None:
            usable.append(name)
        else:
            log.info("tool %s is unavailable: %s", name, reason)
    return usable


def resolve_tools(spec: str | list[str] | None) -> list[str]:
    """``"all"``, ``None`` or ``[]`` -> every available tool; ``"a,b"`` or a list -> those,
    checked (an unknown name is an error naming the valid ones)."""
    if spec is None or spec == "all" or spec == [] or spec == ["all"]:
        return available_tools()
    names = [n.strip() for n in spec.split(",")] if isinstance(spec, str) else list(spec)
    names = [n for n in names if n]
    for name in names:
        if name not in TOOLS:
            raise ConfigError(f"unknown tool {name!r}; valid: all, {', '.join(visible_tools())}")
        reason = TOOLS.get(name).unavailable_reason()
        if reason is not None:
            raise ConfigError(f"tool {name!r} cannot run here: {reason}")
    return list(dict.fromkeys(names))


def describe_tools(names: list[str] | None = None) -> list[dict[str, str]]:
    """Name, version and description of each tool, for prompts and docs."""
    chosen = names if names is not None else visible_tools()
    return [
        {"name": n, "version": TOOLS.get(n).version, "description": TOOLS.get(n).description} for n in chosen
    ]


def error_result(tool: str, error: str, elapsed_ms: float = 0.0) -> ToolResult:
    """The result of a call that could not produce one (unknown, disabled, crashed, timed out)."""
    version = TOOLS.get(tool).version if tool in TOOLS else "?"
    return ToolResult(tool=tool, version=version, ok=False, error=error, elapsed_ms=elapsed_ms)


def run_tool(tool: str, waveform: np.ndarray, sample_rate: int, limits: ClipLimits | None) -> ToolResult:
    """``get_tool(tool).run(...)`` in this process; an unknown tool is an error result."""
    if tool not in TOOLS:
        return error_result(tool, f"unknown tool {tool!r}")
    return get_tool(tool).run(waveform, sample_rate, limits)


def to_jsonable(value: Any) -> Any:
    """Numpy scalars/arrays to Python, floats rounded to 4 decimals, NaN/inf to None."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [to_jsonable(v) for v in (value.tolist() if isinstance(value, np.ndarray) else value)]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return round(float(value), 4) if np.isfinite(value) else None
    return value


def _ms_since(start: float) -> float:
    return round((time.perf_counter() - start) * 1000.0, 3)
