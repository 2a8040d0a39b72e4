"""Stored forms of the shared contracts: an evidence row round-trips a ToolResult, an
item's clip is read from its bytes or from its path under the dataset folder."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from audiorouter.contracts import EVIDENCE_SCHEMA, ToolResult
from audiorouter.data.audio_io import decode_item_audio, encode_flac


def test_evidence_rows_round_trip_a_tool_result():
    result = ToolResult("pitch", "2", True, "median pitch A4", {"hz": [440.0], "notes": ["A4"]}, None, 3.5)
    table = pa.Table.from_pylist([result.to_row("item-1")], schema=EVIDENCE_SCHEMA)
    (row,) = table.to_pylist()
    assert row["item_id"] == "item-1" and ToolResult.from_row(row) == result


def test_item_audio_from_bytes_or_a_relative_path(tmp_path):
    clip = encode_flac(np.zeros(1600, np.float32))
    (tmp_path / "clips").mkdir()
    (tmp_path / "clips" / "a.flac").write_bytes(clip)
    from_bytes, sr = decode_item_audio(clip, None, None)
    from_path, _ = decode_item_audio(None, "clips/a.flac", tmp_path)
    assert sr == 16_000 and len(from_bytes) == len(from_path) == 1600
    with pytest.raises(ValueError, match="item x has neither audio bytes nor an audio path"):
        decode_item_audio(None, None, tmp_path, "item x")
