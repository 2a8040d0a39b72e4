"""Audio tools: accurate analysers with short summaries and timestamped data.

Every tool is ``run(waveform, sample_rate) -> ToolResult`` (see ``base``); they are run
in this process (``runner.ToolRunner``, each call in a child ``process.ToolProcess``),
by Ray actors (``executor.ToolExecutorPool``) or over a whole dataset with Ray Data
(``batch``), always through the content-addressed result cache (``store.tool_cache``).

Importing this package is light: the built-in tools (librosa, models) are imported on the
registry's first use. Imports ``data``, ``store``, ``config`` and ``contracts`` only.
"""

from audiorouter.tools.base import (
    TOOLS,
    Tool,
    available_tools,
    describe_tools,
    error_result,
    get_tool,
    load_tool_plugins,
    register_tool,
    resolve_tools,
    run_tool,
    visible_tools,
)

__all__ = [
    "TOOLS", "Tool", "available_tools", "describe_tools", "error_result", "get_tool", "load_tool_plugins",
    "register_tool", "resolve_tools", "run_tool", "visible_tools",
]
