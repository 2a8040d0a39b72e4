"""The three batch-inference stages: items -> decisions -> evidence -> answers.

Each stage is a Ray Data job over the dataset's Parquet shards: the driver lists the
ids still missing from the stage's output folder, Ray Data reads only those items in
blocks of ``chunk_size``, a pool of workers (workers.py: the router, the tool runner,
the reasoner) maps each block, and the driver writes every finished block as one part
as soon as it arrives (parts.py). An interrupted stage loses at most the blocks in
flight; rerunning it redoes only the missing items. Ray must be running.

    route_stage("data/perception", "test", "runs/infer", "runs/q/checkpoints/iter-40/policy")
    tools_stage("data/perception", "test", "runs/infer", cfg.tools)
    reason_stage("data/perception", "test", "runs/infer", cfg.reasoner)
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from tqdm import tqdm

from audiorouter.config import ToolsConfig
from audiorouter.contracts import EVIDENCE_SCHEMA
from audiorouter.data.items import read_table, split_files
from audiorouter.data.ray_io import item_dataset, worker_cpu_share
from audiorouter.inference.parts import (
    ANSWERS,
    ANSWERS_SCHEMA,
    DECISIONS,
    DECISIONS_SCHEMA,
    EVIDENCE,
    accuracy_summary,
    done_ids,
    read_decisions,
    write_part,
)
from audiorouter.inference.workers import ReasonWorker, RouteWorker, ToolsWorker


@dataclass
class StageReport:
    stage: str
    out_dir: Path
    items: int  # items the stage is asked for
    skipped: int  # already in the output
    processed: int  # done in this run
    parts: int  # parts written in this run
    seconds: float
    notes: list[str] = field(default_factory=list)

    def render(self) -> str:
        text = (f"{self.stage}: {self.processed} items processed, {self.skipped} already done, "
                f"{self.parts} parts written to {self.out_dir} in {self.seconds:.1f} s")
        return "\n".join([text, *self.notes])


@dataclass
class Pool:
    """The Ray Data actor pool a stage maps with."""

    worker: type
    kwargs: dict[str, Any]
    size: int = 1
    num_cpus: float = 1.0
    num_gpus: float = 0.0
    resources: dict[str, float] = field(default_factory=dict)  # custom resources per worker (placement.py)


def split_ids(data_dir: str | Path, split: str, limit: int | None = None) -> list[str]:
    """The ids of a split in stored order (the first ``limit`` when given)."""
    ids = read_table(data_dir, split, columns=["id"]).column("id").to_pylist()
    return ids[:limit] if limit else ids


def run_stage(stage: str, out: Path, data_dir: str | Path, split: str, item_ids: Sequence[str], pool: Pool,
              schema: pa.Schema, chunk_size: int, progress: bool) -> StageReport:
    """Shared driver: skip done ids, map the rest with ``pool``, one part per block."""
    import ray.data

    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    start = time.perf_counter()
    folder = out / stage
    done = done_ids(folder)
    todo = [i for i in dict.fromkeys(item_ids) if i not in done]
    parts = 0
    if todo:
        ray.data.DataContext.get_current().enable_progress_bars = progress
        dataset = item_dataset(split_files(data_dir, split), chunk_size, ids=todo)
        workers = min(pool.size, -(-len(todo) // chunk_size))  # no idle actors for a short remainder
        mapped = dataset.map_batches(
            pool.worker, fn_constructor_kwargs=pool.kwargs, batch_size=chunk_size, batch_format="pyarrow",
            concurrency=workers, num_cpus=worker_cpu_share(pool.num_cpus, workers), num_gpus=pool.num_gpus,
            resources=pool.resources,
        )
        with tqdm(total=len(todo), desc=stage, unit="item", disable=not progress) as bar:
            for block in mapped.iter_batches(batch_format="pyarrow", batch_size=None):
                ids = block.column("item_id").to_pylist()
                rows = [row for text in block.column("rows").to_pylist() for row in json.loads(text)]
                write_part(folder, rows, schema, ids)
                parts += 1
                bar.update(len(ids))
    asked = len(set(item_ids))
    return StageReport(stage, folder, asked, asked - len(todo), len(todo), parts, time.perf_counter() - start)


def route_stage(data_dir: str | Path, split: str, out: str | Path, policy_dir: str | Path, *,
                limit: int | None = None, chunk_size: int = 64, feature_cache_dir: str | Path | None = None,
                progress: bool = True, max_duration_s: float = ToolsConfig.max_duration_s) -> StageReport:
    """Items -> routing decisions (``OUT/decisions``) with the policy saved in ``policy_dir``,
    from the first ``max_duration_s`` (``tools.max_duration_s``) of each clip."""
    pool = Pool(RouteWorker, {"policy_dir": str(policy_dir),
                              "feature_cache_dir": str(feature_cache_dir) if feature_cache_dir else None,
                              "data_dir": str(data_dir), "max_duration_s": max_duration_s})
    return run_stage(DECISIONS, Path(out), data_dir, split, split_ids(data_dir, split, limit), pool,
                     DECISIONS_SCHEMA, chunk_size, progress)


def tools_stage(data_dir: str | Path, split: str, out: str | Path, tools_config: Any, *, limit: int | None = None,
                chunk_size: int = 64, progress: bool = True) -> StageReport:
    """Decisions -> evidence (``OUT/evidence``): only each item's routed tools are run."""
    out = Path(out)
    every_id = split_ids(data_dir, split)
    ids = every_id[:limit] if limit else every_id
    decisions = read_decisions(out)
    unknown = sorted(set(decisions) - set(every_id))
    if unknown:
        raise ValueError(f"{len(unknown)} routed items are not in split {split!r} of {data_dir} "
                         f"(e.g. {unknown[0]!r})")
    routed = [i for i in ids if i in decisions]
    pool = Pool(ToolsWorker, {"out": str(out), "tools_config": tools_config, "data_dir": str(data_dir)},
                tools_config.num_actors, tools_config.actor_num_cpus, resources=dict(tools_config.actor_resources))
    report = run_stage(EVIDENCE, out, data_dir, split, routed, pool, EVIDENCE_SCHEMA, chunk_size, progress)
    if len(routed) < len(ids):
        report.notes.append(f"{len(ids) - len(routed)} items have no routing decision yet (run `infer route`)")
    return report


def reason_stage(data_dir: str | Path, split: str, out: str | Path, reasoner_config: Any, *,
                 limit: int | None = None, chunk_size: int = 64, progress: bool = True,
                 max_duration_s: float = ToolsConfig.max_duration_s) -> StageReport:
    """Evidence -> answers (``OUT/answers``) from the configured reasoner, which hears the
    first ``max_duration_s`` (``tools.max_duration_s``) of each clip; the report carries
    the accuracy when labels exist."""
    out = Path(out)
    ids = split_ids(data_dir, split, limit)
    decisions, finished = read_decisions(out), done_ids(out / EVIDENCE)
    ready = [i for i in ids if i in decisions and i in finished]
    pool = Pool(ReasonWorker, {"out": str(out), "reasoner_config": reasoner_config, "data_dir": str(data_dir),
                               "max_duration_s": max_duration_s},
                reasoner_config.num_actors, reasoner_config.actor_num_cpus, reasoner_config.actor_num_gpus,
                dict(reasoner_config.actor_resources))
    report = run_stage(ANSWERS, out, data_dir, split, ready, pool, ANSWERS_SCHEMA, chunk_size, progress)
    if len(ready) < len(ids):
        report.notes.append(f"{len(ids) - len(ready)} items have no evidence yet (run `infer route` and "
                            "`infer tools` first)")
    summary = accuracy_summary(out)
    if summary:
        report.notes.append(summary)
    return report
