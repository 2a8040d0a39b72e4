"""Loudness: integrated LUFS (ITU-R BS.1770 via pyloudnorm), the level of each sounding
part, which part is loudest, and a level curve over time."""

from __future__ import annotations

import numpy as np
import pyloudnorm

from audiorouter.tools.base import Tool, register_tool
from audiorouter.tools.common import HOP, frame_db, ordinal, sounding_segments, span_text

BLOCK_S = 0.4  # the BS.1770 gating block
CURVE_STEP_S = 0.1
MAX_LISTED = 8


def lufs(waveform: np.ndarray, sample_rate: int) -> float | None:
    """Integrated loudness; parts shorter than one 400 ms block are measured with one
    block of their own length. None when nothing passes the -70 LUFS gate."""
    block = min(BLOCK_S, waveform.size / sample_rate)
    value = pyloudnorm.Meter(sample_rate, block_size=block).integrated_loudness(waveform.astype(np.float64))
    return float(value) if np.isfinite(value) else None


@register_tool
class LoudnessTool(Tool):
    name = "loudness"
    version = "1"
    description = "integrated loudness (LUFS), the level of each sound in order, and which is loudest"

    def analyse(self, waveform, sample_rate):
        spans = sounding_segments(waveform, sample_rate)
        parts = []
        for start, end in spans:
            piece = waveform[int(start * sample_rate) : int(end * sample_rate)]
            parts.append({"start_s": start, "end_s": end, "lufs": lufs(piece, sample_rate),
                          "rms_dbfs": 20 * np.log10(np.sqrt(np.mean(piece.astype(np.float64) ** 2)) + 1e-12)})
        total = lufs(waveform, sample_rate)
        peak_db = 20 * np.log10(float(np.max(np.abs(waveform))))
        levels = frame_db(waveform)[:: int(CURVE_STEP_S * sample_rate / HOP)]
        data = {
            "integrated_lufs": total,
            "peak_dbfs": peak_db,
            "segments": parts,
            "loudest_index": _loudest(parts),
            "curve": {"step_s": CURVE_STEP_S, "level_dbfs": levels},
        }
        return _summary(total, peak_db, parts, data["loudest_index"]), data


def _loudest(parts: list[dict]) -> int | None:
    measured = [(p["lufs"], i) for i, p in enumerate(parts) if p["lufs"] is not None]
    return max(measured)[1] if measured else None


def _summary(total: float | None, peak_db: float, parts: list[dict], loudest: int | None) -> str:
    head = f"integrated {total:.1f} LUFS" if total is not None else "integrated loudness below -70 LUFS"
    head += f", peak {peak_db:.1f} dBFS"
    if len(parts) < 2 or loudest is None:
        return head
    listed = "; ".join(
        f"{ordinal(i)} sound {span_text(p['start_s'], p['end_s'])} "
        + (f"{p['lufs']:.1f} LUFS" if p["lufs"] is not None else "below -70 LUFS")
        for i, p in enumerate(parts[:MAX_LISTED])
    )
    others = [p["lufs"] for i, p in enumerate(parts) if i != loudest and p["lufs"] is not None]
    margin = f" by {parts[loudest]['lufs'] - max(others):.1f} dB" if others else ""
    return f"{head}; {listed}; loudest: {ordinal(loudest)} sound{margin}"
