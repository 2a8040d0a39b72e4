"""A dataset's items as a Ray Dataset, and CPU shares for the batch workers over it.

The inference stages read the stored Parquet shards this way: only the wanted ids, in
blocks of about ``block_rows`` items so the workers of an actor pool all get work.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

log = logging.getLogger(__name__)

READ_CPUS = 0.1  # file reads are light; most of a small machine stays with the workers


def item_dataset(files: Sequence[str | Path], block_rows: int, ids: Sequence[str] | None = None,
                 columns: list[str] | None = None):
    """A Ray Dataset of the item rows in ``files`` (all, or only ``ids``), in blocks of
    about ``block_rows`` rows. Ray must be running."""
    import ray.data

    if not files:
        raise FileNotFoundError("no Parquet shards to read")
    dataset = ray.data.read_parquet([str(f) for f in files], columns=columns, num_cpus=READ_CPUS)
    rows = sum(pq.ParquetFile(f).metadata.num_rows for f in files) if ids is None else len(set(ids))
    if ids is not None:
        wanted = pa.array(sorted(set(ids)), type=pa.string())
        dataset = dataset.map_batches(lambda batch: batch.filter(pc.is_in(batch["id"], value_set=wanted)),
                                      batch_format="pyarrow", num_cpus=READ_CPUS)
    return dataset.repartition(max(1, -(-rows // block_rows)))  # one block per batch: spread the work


def worker_cpu_share(requested: float, workers: int) -> float:
    """CPU share per worker, leaving one CPU free for what feeds them (Ray Data's own
    file-listing and read tasks, or the driver decoding clips for the tool-executor
    pool): on a small machine, workers holding every CPU would starve the reads."""
    import ray

    total = float(ray.cluster_resources().get("CPU", 1.0))
    share = min(requested, max(0.05, (total - 1.0) / workers))
    if share < requested:
        log.info("batch workers get %.2f CPU each (of %g) so their input can still be read", share, total)
    return share
