"""Audio tools: the analysers (``run(waveform, sample_rate) -> ToolResult``) and their registry
(``base``), light to import. Imports ``data``, ``config``, ``contracts``, ``registry``,
``validation`` and ``packaged_files``; what runs them is ``tool_execution``.
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
    tool_names,
    visible_tools,
)

__all__ = [
    "TOOLS", "Tool", "available_tools", "describe_tools", "error_result", "get_tool", "load_tool_plugins",
    "register_tool", "resolve_tools", "run_tool", "tool_names", "visible_tools",
]
