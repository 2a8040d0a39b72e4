"""Run tools over a whole dataset with Ray Data and write the evidence table.

    report = run_batch("data/perception", "data/perception/evidence.parquet", ["pitch", "tempo"], cfg.tools)

Ray Data reads the Parquet shards (``DIR/<split>/part-*.parquet``), a pool of
``workers`` actors decodes each clip and runs the tools through ``ToolRunner`` (cache
first, soft per-call timeout), and the driver writes one Parquet file with one row per
(item, tool) (``contracts.EVIDENCE_SCHEMA``, read back with ``item_evidence.read_evidence``).
Each worker runs ``item_evidence.ItemEvidence``: a clip that cannot be decoded gets an
error row per tool. Ray Data shows a progress bar while it runs. Rerunning is nearly free: every
result comes from the cache (``cached`` is true on those rows).
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from audiorouter.config import ToolsConfig
from audiorouter.contracts import EVIDENCE_SCHEMA
from audiorouter.data.items import available_splits, split_files, write_table_atomic
from audiorouter.data.ray_io import item_dataset, worker_cpu_share
from audiorouter.tools.item_evidence import ItemEvidence

log = logging.getLogger(__name__)


class EvidenceMapper:
    """Ray Data callable class: a batch of items in, their evidence rows out."""

    def __init__(self, tools: list[str], config: ToolsConfig, data_dir: str) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        self.tools = tools
        self.evidence = ItemEvidence(config, Path(data_dir))

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list]:
        rows: list[dict[str, Any]] = []
        for item_id, audio, path in zip(batch["id"], batch["audio"], batch["audio_path"], strict=True):
            rows += self.evidence.rows(item_id, audio, path, self.tools)
        return {name: [row[name] for row in rows] for name in EVIDENCE_SCHEMA.names}


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


def run_batch(data_dir: str | Path, out_path: str | Path, tools: list[str], config: ToolsConfig,
              splits: list[str] | None = None, workers: int | None = None) -> BatchReport:
    """Evidence for every item of ``splits`` (default: all) of the dataset at ``data_dir``.
    Ray must be running (``ray.init``)."""
    workers = workers or config.num_actors
    start = time.perf_counter()
    worker_cpus = worker_cpu_share(config.actor_num_cpus, workers)
    dataset = item_dataset(shard_paths(data_dir, splits), config.batch_size, columns=["id", "audio", "audio_path"])
    evidence = dataset.map_batches(
        EvidenceMapper, fn_constructor_kwargs={"tools": tools, "config": config, "data_dir": str(data_dir)},
        batch_size=config.batch_size, batch_format="numpy", concurrency=workers, num_cpus=worker_cpus,
        resources=dict(config.actor_resources),
    )
    tables = [pa.Table.from_batches([b]) if isinstance(b, pa.RecordBatch) else b
              for b in evidence.iter_batches(batch_format="pyarrow", batch_size=None)]
    table = pa.concat_tables([t.select(EVIDENCE_SCHEMA.names).cast(EVIDENCE_SCHEMA) for t in tables]) \
        if tables else EVIDENCE_SCHEMA.empty_table()
    table = table.sort_by([("item_id", "ascending")])
    out = write_table_atomic(table, out_path)
    seconds = time.perf_counter() - start
    ok = int(np.sum(table.column("ok").to_numpy(zero_copy_only=False))) if table.num_rows else 0
    cached = int(np.sum(table.column("cached").to_numpy(zero_copy_only=False))) if table.num_rows else 0
    items = len(set(table.column("item_id").to_pylist()))
    return BatchReport(out, items, table.num_rows, ok, table.num_rows - ok, cached, seconds, workers)
