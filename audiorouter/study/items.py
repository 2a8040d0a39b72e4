"""Reading the study's items by id, with or without their audio.

Internalisation trials need every training item's question, choices and answer but
never the audio (its features are computed once); router trials need neither. Reading
without the audio column keeps 8192 items at a few MB.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa

from audiorouter.contracts import ITEM_SCHEMA, AudioQAItem
from audiorouter.data.items import read_table, split_files

NO_AUDIO = [name for name in ITEM_SCHEMA.names if name != "audio"]


def load_items(data_dir: str | Path, splits: Sequence[str], item_ids: Sequence[str],
               audio: bool = True) -> list[AudioQAItem]:
    """The items with ``item_ids`` from ``splits``, in the order of ``item_ids``."""
    wanted = set(item_ids)
    found: dict[str, AudioQAItem] = {}
    for split in [s for s in splits if split_files(data_dir, s)]:  # a split may be empty (no "train" beyond the pool)
        table = read_table(data_dir, split, None if audio else NO_AUDIO)
        keep = [i for i, item_id in enumerate(table.column("id").to_pylist()) if item_id in wanted]
        for row in table.take(pa.array(keep, type=pa.int64())).to_pylist():  # typed: keep may be empty
            row.setdefault("audio", None)
            found[row["id"]] = AudioQAItem.from_row(row)
    missing = [i for i in item_ids if i not in found]
    if missing:
        raise KeyError(f"{len(missing)} study items not found in {data_dir} ({', '.join(splits)}): {missing[:3]}")
    return [found[i] for i in item_ids]
