"""Run tools over a whole dataset on the tool-executor pool and write the evidence table.

    report = run_batch("data/perception", "data/perception/evidence.parquet", ["pitch", "tempo"], cfg.tools)

The driver streams the Parquet shards (``DIR/<split>/part-*.parquet``), ``tools.batch_size``
rows at a time, and hands their clips to a pool of ``workers`` tool-executor actors
(``item_evidence.evidence_on_pool``, the pass the training driver makes too: cache
first, a hard per-call limit, a tool that keeps crashing disabled, GPU actors for GPU
tools); then it writes one Parquet file with one row per (item, tool)
(``contracts.EVIDENCE_SCHEMA``, read back with ``item_evidence.read_evidence``). A clip
that cannot be decoded gets an error row per tool. A progress bar counts the items.
Rerunning is nearly free: every result comes from the cache (``cached`` is true on those
rows) and no actor starts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from audiorouter.config import ToolsConfig
from audiorouter.contracts import EVIDENCE_SCHEMA
from audiorouter.data.items import available_splits, split_files, write_table_atomic
from audiorouter.data.ray_io import worker_cpu_share
from audiorouter.tool_execution.executor import ToolExecutorPool
from audiorouter.tool_execution.item_evidence import ItemAudio, evidence_on_pool

ITEM_COLUMNS = ["id", "audio", "audio_path"]


@dataclass
class BatchReport:
    out_path: Path
    items: int
    rows: int
    ok: int
    failed: int
    cached: int
    seconds: float
    workers: int

    @property
    def clips_per_s(self) -> float:
        return self.items / self.seconds if self.seconds > 0 else 0.0

    def render(self) -> str:
        return (f"wrote {self.rows} results for {self.items} items to {self.out_path} in {self.seconds:.1f} s "
                f"({self.clips_per_s:.2f} clips/s, {self.workers} workers): {self.ok} ok, {self.failed} failed, "
                f"{self.cached} from the cache")


def shard_paths(data_dir: str | Path, splits: list[str] | None = None) -> list[str]:
    chosen = splits or available_splits(data_dir)
    files = [str(p) for split in chosen for p in split_files(data_dir, split)]
    if not files:
        raise FileNotFoundError(f"no Parquet shards under {data_dir} for splits {chosen}")
    return files


def stored_items(files: Sequence[str], rows_per_read: int) -> Iterator[ItemAudio]:
    """(id, audio, audio_path) of every row of ``files``, read ``rows_per_read`` at a time."""
    for file in files:
        for batch in pq.ParquetFile(file).iter_batches(batch_size=rows_per_read, columns=ITEM_COLUMNS):
            yield from zip(*(batch.column(name).to_pylist() for name in ITEM_COLUMNS), strict=True)


def run_batch(data_dir: str | Path, out_path: str | Path, tools: list[str], config: ToolsConfig,
              splits: list[str] | None = None, workers: int | None = None) -> BatchReport:
    """Evidence for every item of ``splits`` (default: all) of the dataset at ``data_dir``,
    on ``workers`` tool-executor actors (default ``tools.num_actors``; their CPU shares
    shrink so that all fit, with one CPU left to this driver, which decodes the clips).
    Ray must be running (``ray.init``)."""
    workers = workers or config.num_actors
    config = replace(config, num_actors=workers, actor_num_cpus=worker_cpu_share(config.actor_num_cpus, workers))
    start = time.perf_counter()
    files = shard_paths(data_dir, splits)
    total = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    with ToolExecutorPool(config, warm=tools, lazy=True) as pool:
        rows = [result.to_row(item_id, cached)
                for item_id, pairs in evidence_on_pool(pool, stored_items(files, config.batch_size), tools,
                                                       data_dir, total)
                for result, cached in pairs]
    table = pa.Table.from_pylist(rows, schema=EVIDENCE_SCHEMA).sort_by([("item_id", "ascending")])
    out = write_table_atomic(table, out_path)
    seconds = time.perf_counter() - start
    ok = int(np.sum(table.column("ok").to_numpy(zero_copy_only=False))) if table.num_rows else 0
    cached = int(np.sum(table.column("cached").to_numpy(zero_copy_only=False))) if table.num_rows else 0
    items = len(set(table.column("item_id").to_pylist()))
    return BatchReport(out, items, table.num_rows, ok, table.num_rows - ok, cached, seconds, workers)
