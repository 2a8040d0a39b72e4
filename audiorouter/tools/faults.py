"""Fault-injection tools for drills and tests: one raises, one hangs. They are hidden
(never part of "all", never in prompts) but can be named explicitly, so a test or an
operator can check that a failing or stuck tool becomes an error result while the
other tools of the same clip still succeed."""

from __future__ import annotations

import time

from audiorouter.tools.base import Tool, register_tool


@register_tool
class RaisingTool(Tool):
    name = "fault_raise"
    version = "1"
    description = "always raises (fault injection)"
    hidden = True

    def analyse(self, waveform, sample_rate):
        raise RuntimeError("injected failure")


@register_tool
class HangingTool(Tool):
    name = "fault_hang"
    version = "1"
    description = "sleeps for an hour (fault injection)"
    hidden = True

    def analyse(self, waveform, sample_rate):
        time.sleep(3600)
        return "woke up", {}
