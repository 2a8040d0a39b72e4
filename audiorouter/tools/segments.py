"""Sounding segments: where the clip has sound, for how long, and where the gaps are."""

from __future__ import annotations

from audiorouter.tools.base import Tool, register_tool
from audiorouter.tools.common import sounding_segments, span_text

MAX_LISTED = 8


@register_tool
class SegmentsTool(Tool):
    name = "segments"
    version = "1"
    description = "non-silent segments with start and end times, total sounding time and the gaps between"

    def analyse(self, waveform, sample_rate):
        spans = sounding_segments(waveform, sample_rate)
        if not spans:
            return "no sound above the background", {"segments": [], "gaps": [], "sounding_s": 0.0}
        gaps = [(spans[i][1], spans[i + 1][0]) for i in range(len(spans) - 1)]
        total = sum(e - s for s, e in spans)
        data = {
            "segments": [{"start_s": s, "end_s": e, "duration_s": e - s} for s, e in spans],
            "gaps": [{"start_s": s, "end_s": e, "duration_s": e - s} for s, e in gaps],
            "sounding_s": total,
            "first_start_s": spans[0][0],
            "last_end_s": spans[-1][1],
        }
        return _summary(spans, gaps, total), data


def _summary(spans: list[tuple[float, float]], gaps: list[tuple[float, float]], total: float) -> str:
    if len(spans) == 1:
        s, e = spans[0]
        return f"sounding {span_text(s, e)} ({total:.2f} s total)"
    listed = ", ".join(span_text(s, e) for s, e in spans[:MAX_LISTED])
    more = ", ..." if len(spans) > MAX_LISTED else ""
    text = f"{len(spans)} segments: {listed}{more} ({total:.2f} s sounding in total)"
    gap_list = ", ".join(f"{span_text(s, e)} ({e - s:.2f} s)" for s, e in gaps[:MAX_LISTED])
    return f"{text}; gaps {gap_list}{', ...' if len(gaps) > MAX_LISTED else ''}"
