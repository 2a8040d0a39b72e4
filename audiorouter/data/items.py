"""Datasets on disk: ``DIR/<split>/part-00000.parquet`` with ``ITEM_SCHEMA``, plus
``DIR/rejects.jsonl`` (one line per record that could not be used, with the reason).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from audiorouter.contracts import ITEM_SCHEMA, SPLITS, AudioQAItem

REJECTS_FILE = "rejects.jsonl"


class ShardWriter:
    """Writes items of one split into numbered Parquet shards of ``shard_size`` rows."""

    def __init__(self, out_dir: str | Path, split: str, shard_size: int = 256) -> None:
        self.split_dir = Path(out_dir) / split
        self.split_dir.mkdir(parents=True, exist_ok=True)
        for old in self.split_dir.glob("part-*.parquet"):
            old.unlink()  # a rewrite replaces the split, never mixes two generations
        self.shard_size = shard_size
        self._rows: list[dict] = []
        self._shards = 0
        self.count = 0

    def add(self, item: AudioQAItem) -> None:
        self._rows.append(item.to_row())
        self.count += 1
        if len(self._rows) >= self.shard_size:
            self._flush()

    def close(self) -> None:
        if self._rows:
            self._flush()

    def _flush(self) -> None:
        table = pa.Table.from_pylist(self._rows, schema=ITEM_SCHEMA)
        pq.write_table(table, self.split_dir / f"part-{self._shards:05d}.parquet")
        self._shards += 1
        self._rows = []


class RejectLog:
    """Appends ``{"id", "reason", "source"}`` lines to ``DIR/rejects.jsonl``."""

    def __init__(self, out_dir: str | Path) -> None:
        self.path = Path(out_dir) / REJECTS_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def add(self, item_id: str, reason: str, source: str) -> None:
        with self.path.open("a") as handle:
            handle.write(json.dumps({"id": item_id, "reason": reason, "source": source}) + "\n")
        self.count += 1


def read_rejects(data_dir: str | Path) -> list[dict]:
    path = Path(data_dir) / REJECTS_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def write_table_atomic(table: pa.Table, path: str | Path) -> Path:
    """Write ``table`` as Parquet at ``path`` through a temporary file and a rename, so
    readers see the old file or the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    pq.write_table(table, tmp)
    os.replace(tmp, path)
    return path


def split_files(data_dir: str | Path, split: str) -> list[Path]:
    return sorted((Path(data_dir) / split).glob("part-*.parquet"))


def available_splits(data_dir: str | Path) -> list[str]:
    present = [s for s in SPLITS if split_files(data_dir, s)]
    others = sorted(
        p.name for p in Path(data_dir).glob("*") if p.is_dir() and p.name not in SPLITS
        and split_files(data_dir, p.name)
    )
    return present + others


def read_table(data_dir: str | Path, split: str, columns: list[str] | None = None) -> pa.Table:
    files = split_files(data_dir, split)
    if not files:
        raise FileNotFoundError(f"no Parquet shards for split {split!r} under {data_dir}")
    return pa.concat_tables(pq.read_table(f, columns=columns, schema=ITEM_SCHEMA) for f in files)


def iter_items(data_dir: str | Path, split: str) -> Iterator[AudioQAItem]:
    for path in split_files(data_dir, split):
        for row in pq.read_table(path, schema=ITEM_SCHEMA).to_pylist():
            yield AudioQAItem.from_row(row)


def write_items(items: Iterable[AudioQAItem], out_dir: str | Path, split: str, shard_size: int = 256) -> int:
    writer = ShardWriter(out_dir, split, shard_size)
    for item in items:
        writer.add(item)
    writer.close()
    return writer.count


@dataclass
class DatasetInfo:
    splits: dict[str, int]
    tasks: dict[str, dict[str, int]]  # split -> task -> count
    difficulties: dict[str, dict[str, int]]  # split -> difficulty -> count
    total_duration_s: float
    rejects: int

    def render(self) -> str:
        lines = [f"{'split':<12}{'items':>8}"]
        lines += [f"{s:<12}{n:>8}" for s, n in self.splits.items()]
        tasks = sorted({t for per in self.tasks.values() for t in per})
        header = f"\n{'task':<22}" + "".join(f"{s:>12}" for s in self.splits)
        lines.append(header)
        for task in tasks:
            lines.append(f"{task:<22}" + "".join(f"{self.tasks[s].get(task, 0):>12}" for s in self.splits))
        levels = sorted({d for per in self.difficulties.values() for d in per})
        lines.append(f"\n{'difficulty':<22}" + "".join(f"{s:>12}" for s in self.splits))
        for level in levels:
            lines.append(
                f"{level:<22}" + "".join(f"{self.difficulties[s].get(level, 0):>12}" for s in self.splits)
            )
        lines.append(f"\naudio: {self.total_duration_s / 60:.1f} min; rejected records: {self.rejects}")
        return "\n".join(lines)


def dataset_info(data_dir: str | Path) -> DatasetInfo:
    splits, tasks, difficulties, duration = {}, {}, {}, 0.0
    for split in available_splits(data_dir):
        table = read_table(data_dir, split, columns=["task", "difficulty", "duration_s"])
        splits[split] = table.num_rows
        tasks[split] = dict(sorted(Counter(table.column("task").to_pylist()).items()))
        difficulties[split] = dict(sorted(Counter(table.column("difficulty").to_pylist()).items()))
        duration += float(pa.compute.sum(table.column("duration_s")).as_py() or 0.0)
    if not splits:
        raise FileNotFoundError(f"no dataset under {data_dir} (expected <split>/part-*.parquet)")
    return DatasetInfo(splits, tasks, difficulties, duration, len(read_rejects(data_dir)))
