"""Tool processes started together, as a pool's workers start: each takes a private copy
of the shared numba cache first, then runs tempo (librosa's beat tracker, the gufunc pair
seen crashing on fresh machines, librosa #1998)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from audiorouter.tool_execution.numba_cache import SHARED_ENV

# Two processes compiling at once on an empty cache is the race (each compiles librosa's
# kernels for about two minutes of a core).
PROCESSES = 2

CHILD = """
from audiorouter.tool_execution.numba_cache import use_private_cache
private = use_private_cache()
import audiorouter.tools as t
from audiorouter.tools.probe_signals import SR, drum_pattern
for name in ("tempo",):
    result = t.get_tool(name).run(drum_pattern(), SR)
    assert result.ok, result.error
print(private)
"""


def env_with_shared_folder(folder: Path) -> dict[str, str]:
    """This environment with ``folder`` as the shared numba cache, and without the shared
    folder the test process itself copied (conftest.py), which would take precedence."""
    return {k: v for k, v in os.environ.items() if k != SHARED_ENV} | {"NUMBA_CACHE_DIR": str(folder),
                                                                        "HF_HUB_OFFLINE": "1"}


def start_together(env: dict[str, str]) -> list[subprocess.CompletedProcess]:
    """PROCESSES tool processes started at once with ``env``; each one's result."""
    procs = [subprocess.Popen([sys.executable, "-X", "faulthandler", "-c", CHILD], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(PROCESSES)]
    return [subprocess.CompletedProcess(p.args, p.wait(timeout=600), *p.communicate()) for p in procs]
