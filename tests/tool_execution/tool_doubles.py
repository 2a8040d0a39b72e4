"""Test doubles for the tool processes, loaded as a tool plugin
(``tools.plugins=[<this file>]``) only by the tests that need them: tools that crash
their process, and one that counts its calls in a file (calls happen in a child)."""

from __future__ import annotations

import ctypes
import hashlib
import os
from pathlib import Path

import numpy as np

from audiorouter.tools.base import Tool, register_tool

PATH = str(Path(__file__).resolve())
COUNT_FILE_ENV = "AUDIOROUTER_TEST_COUNT_FILE"  # set before the runner starts its process
CRASH_DIR_ENV = "AUDIOROUTER_TEST_CRASH_DIR"  # where crash_once marks the clips it crashed on


def segfault() -> None:
    ctypes.string_at(0)  # reads address 0: a real SIGSEGV, no Python exception


@register_tool
class SegfaultTool(Tool):
    name = "segfault"
    version = "1"
    description = "segfaults on every call (test double)"
    hidden = True

    def analyse(self, waveform, sample_rate):
        segfault()
        return "unreachable", {}


@register_tool
class CrashOnceTool(Tool):
    """Segfaults the first time it sees a clip, then works: shows the replacement."""

    name = "crash_once"
    version = "1"
    description = "segfaults on the first call per clip, then reports the peak (test double)"
    hidden = True

    def analyse(self, waveform, sample_rate):
        digest = hashlib.sha256(np.ascontiguousarray(waveform).tobytes()).hexdigest()[:16]
        marker = Path(os.environ[CRASH_DIR_ENV]) / f"crashed-once-{digest}"
        if not marker.exists():
            marker.touch()
            segfault()
        return f"peak {float(np.abs(waveform).max()):.2f}", {}


@register_tool
class CountingTool(Tool):
    """Appends a line to the file named by ``$AUDIOROUTER_TEST_COUNT_FILE`` per call."""

    name = "counting"
    version = "1"
    description = "counts its calls in a file (test double)"
    hidden = True

    def analyse(self, waveform, sample_rate):
        with open(os.environ[COUNT_FILE_ENV], "a") as log:
            log.write("call\n")
        return "counted", {}


def calls(count_file: Path) -> int:
    return len(count_file.read_text().splitlines()) if count_file.exists() else 0
