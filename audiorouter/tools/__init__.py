"""Audio tools: accurate analysers with short summaries and timestamped data.

Every tool is ``run(waveform, sample_rate) -> ToolResult`` (see ``base``); they are run
in this process (``runner.ToolRunner``), by Ray actors (``executor.ToolExecutorPool``)
or over a whole dataset with Ray Data (``batch.run_batch``), always through the
content-addressed result cache (``cache.ToolCache``).

Importing this package registers every tool.
"""

from audiorouter.tools import (  # noqa: F401  (registration)
    asr,
    chords,
    faults,
    loudness,
    onsets,
    pitch,
    segments,
    spectral,
    speech,
    tagger,
    tempo,
)
from audiorouter.tools.base import (
    TOOLS,
    Tool,
    available_tools,
    describe_tools,
    get_tool,
    load_tool_plugins,
    register_tool,
    resolve_tools,
    visible_tools,
)
from audiorouter.tools.cache import ToolCache
from audiorouter.tools.inputs import ClipLimits, clip_key, prepare_clip
from audiorouter.tools.runner import ToolRunner

__all__ = [
    "TOOLS", "Tool", "available_tools", "describe_tools", "get_tool", "load_tool_plugins", "register_tool", "resolve_tools",
    "visible_tools", "ToolCache", "ClipLimits", "clip_key", "prepare_clip", "ToolRunner",
]
