"""The three batch-inference stages: items -> decisions -> evidence -> answers.

Each stage reads its inputs, skips the items already in its output folder and
processes the rest in fixed-size chunks, writing one Parquet part per chunk
(``OUT/<stage>/part-NNNNN.parquet``, written to a temporary name then renamed, so a
part is all there or absent). The ids a part covers are kept in its schema metadata
(``audiorouter.item_ids``): an item routed to no tools has no evidence rows but is
still recorded as done. An interrupted stage loses at most the chunk in flight;
rerunning it redoes only the missing items.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from audiorouter.contracts import EVIDENCE_SCHEMA, AudioQAItem, ReasonerRequest, RoutingDecision, ToolResult

log = logging.getLogger(__name__)

IDS_KEY = b"audiorouter.item_ids"
DECISIONS, EVIDENCE, ANSWERS = "decisions", "evidence", "answers"

DECISIONS_SCHEMA = pa.schema([
    pa.field("item_id", pa.string(), nullable=False),
    pa.field("tools", pa.list_(pa.string()), nullable=False),
    pa.field("log_prob", pa.float64(), nullable=False),
])
ANSWERS_SCHEMA = pa.schema([
    pa.field("item_id", pa.string(), nullable=False),
    pa.field("chosen_index", pa.int64(), nullable=False),
    pa.field("prediction", pa.string(), nullable=False),  # the chosen choice's text, "" when none
    pa.field("answer", pa.string(), nullable=True),
    pa.field("correct", pa.bool_(), nullable=True),  # None when the label is unknown
    pa.field("error", pa.string(), nullable=True),
    pa.field("latency_ms", pa.float64(), nullable=False),
])


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


# ---------------------------------------------------------------------------- parts

def part_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("part-*.parquet"))


def done_ids(folder: str | Path) -> set[str]:
    """Item ids covered by the parts in ``folder`` (from each part's metadata)."""
    ids: set[str] = set()
    for path in part_files(Path(folder)):
        meta = pq.read_schema(path).metadata or {}
        ids.update(json.loads(meta.get(IDS_KEY, b"[]")))
    return ids


def write_part(folder: Path, rows: list[dict[str, Any]], schema: pa.Schema, item_ids: list[str]) -> Path:
    """One part with ``rows``, covering ``item_ids``; atomic (temporary file, then rename)."""
    folder.mkdir(parents=True, exist_ok=True)
    existing = part_files(folder)
    index = int(existing[-1].stem.split("-")[1]) + 1 if existing else 0
    table = pa.Table.from_pylist(rows, schema=schema) if rows else schema.empty_table()
    table = table.replace_schema_metadata({IDS_KEY: json.dumps(item_ids).encode()})
    path = folder / f"part-{index:05d}.parquet"
    tmp = folder / f".{path.name}.tmp-{os.getpid()}"
    pq.write_table(table, tmp)
    os.replace(tmp, path)
    return path


def read_rows(folder: str | Path, schema: pa.Schema) -> list[dict[str, Any]]:
    files = part_files(Path(folder))
    return [row for f in files for row in pq.read_table(f, schema=schema).to_pylist()]


def read_decisions(out: str | Path) -> dict[str, RoutingDecision]:
    rows = read_rows(Path(out) / DECISIONS, DECISIONS_SCHEMA)
    return {r["item_id"]: RoutingDecision(r["item_id"], tuple(r["tools"]), r["log_prob"]) for r in rows}


def read_evidence(out: str | Path) -> dict[str, list[ToolResult]]:
    evidence: dict[str, list[ToolResult]] = {}
    for r in read_rows(Path(out) / EVIDENCE, EVIDENCE_SCHEMA):
        evidence.setdefault(r["item_id"], []).append(
            ToolResult(tool=r["tool"], version=r["version"], ok=r["ok"], summary=r["summary"],
                       data=json.loads(r["data"]), error=r["error"], elapsed_ms=r["elapsed_ms"]))
    return evidence


def read_answers(out: str | Path) -> list[dict[str, Any]]:
    return read_rows(Path(out) / ANSWERS, ANSWERS_SCHEMA)


def accuracy_summary(out: str | Path) -> str | None:
    """``accuracy: K/N = X%`` over answers with a known label; None when there are none."""
    rows = [r for r in read_answers(out) if r["correct"] is not None]
    if not rows:
        return None
    right = sum(r["correct"] for r in rows)
    failed = sum(r["error"] is not None for r in read_answers(out))
    return f"accuracy: {right}/{len(rows)} = {100 * right / len(rows):.1f}% ({failed} failed requests)"


def run_chunks(stage: str, out: Path, item_ids: Sequence[str], chunk_size: int, progress: bool,
               schema: pa.Schema, work: Callable[[list[str]], list[dict[str, Any]]]) -> StageReport:
    """Shared driver: skip done ids, ``work`` each chunk, write one part per chunk."""
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    start = time.perf_counter()
    folder = out / stage
    done = done_ids(folder)
    todo = [i for i in dict.fromkeys(item_ids) if i not in done]
    parts = 0
    chunks = range(0, len(todo), chunk_size)
    for begin in tqdm(chunks, desc=stage, unit="chunk", disable=not progress):
        chunk = todo[begin : begin + chunk_size]
        write_part(folder, work(chunk), schema, chunk)
        parts += 1
    return StageReport(stage, folder, len(set(item_ids)), len(set(item_ids)) - len(todo), len(todo), parts,
                       time.perf_counter() - start)


def item_waveform(item: AudioQAItem, data_dir: str | Path | None):
    from audiorouter.data.audio_io import decode_audio

    if item.audio:
        return decode_audio(item.audio)
    if not item.audio_path:
        raise ValueError(f"item {item.id} has neither audio bytes nor an audio path")
    path = Path(item.audio_path)
    return decode_audio(path if path.is_absolute() or data_dir is None else Path(data_dir) / path)


# ---------------------------------------------------------------------------- stages

def route_stage(items: Sequence[AudioQAItem], policy: Any, out: str | Path, chunk_size: int = 64,
                feature_cache_dir: str | Path | None = None, progress: bool = True) -> StageReport:
    """Items -> routing decisions (``OUT/decisions``) with a loaded ``RouterPolicy``."""
    from audiorouter.router.features import featurize

    by_id = {item.id: item for item in items}

    def work(ids: list[str]) -> list[dict[str, Any]]:
        features = featurize([by_id[i] for i in ids], policy.feature_spec, feature_cache_dir)
        return [{"item_id": d.item_id, "tools": list(d.tools), "log_prob": d.log_prob}
                for d in policy.route(features.matrix(), ids)]

    return run_chunks(DECISIONS, Path(out), list(by_id), chunk_size, progress, DECISIONS_SCHEMA, work)


def tools_stage(items: Sequence[AudioQAItem], out: str | Path, tools_config: Any, chunk_size: int = 64,
                data_dir: str | Path | None = None, progress: bool = True) -> StageReport:
    """Decisions -> evidence (``OUT/evidence``): only each item's routed tools are run."""
    import audiorouter.tools  # noqa: F401  (registers every tool)
    from audiorouter.tools.runner import ToolRunner, error_result

    out = Path(out)
    decisions = read_decisions(out)
    by_id = {item.id: item for item in items}
    unknown = [i for i in decisions if i not in by_id]
    if unknown:
        raise ValueError(f"{len(unknown)} routed items are not in the dataset (e.g. {unknown[0]!r})")
    runner = ToolRunner.from_config(tools_config)

    def work(ids: list[str]) -> list[dict[str, Any]]:
        rows = []
        for item_id in ids:
            tools = list(decisions[item_id].tools)
            if not tools:
                continue
            try:
                waveform, sample_rate = item_waveform(by_id[item_id], data_dir)
                results = runner.run(waveform, sample_rate, tools)
            except Exception as exc:  # a bad clip is an error row per tool, not a failed job
                log.warning("item %s: %s", item_id, exc)
                results = [error_result(t, f"bad clip: {exc}") for t in tools]
            rows += [{"item_id": item_id, "tool": r.tool, "version": r.version, "ok": r.ok, "summary": r.summary,
                      "data": json.dumps(r.data, sort_keys=True), "error": r.error,
                      "elapsed_ms": float(r.elapsed_ms)} for r in results]
        return rows

    order = [item.id for item in items if item.id in decisions]
    report = run_chunks(EVIDENCE, out, order, chunk_size, progress, EVIDENCE_SCHEMA, work)
    if len(order) < len(items):
        report.notes.append(f"{len(items) - len(order)} items have no routing decision yet (run `infer route`)")
    return report


def reason_stage(items: Sequence[AudioQAItem], out: str | Path, reasoner: Any, chunk_size: int = 64,
                 data_dir: str | Path | None = None, progress: bool = True) -> StageReport:
    """Evidence -> answers (``OUT/answers``) from a reasoner (``build_reasoner(cfg.reasoner)``);
    the report carries the accuracy when labels exist."""
    out = Path(out)
    decisions = read_decisions(out)
    finished = done_ids(out / EVIDENCE)
    evidence = read_evidence(out)
    by_id = {item.id: item for item in items}
    order = [item.id for item in items if item.id in decisions and item.id in finished]

    def work(ids: list[str]) -> list[dict[str, Any]]:
        requests, rows, failed = [], {}, {}
        for item_id in ids:
            item = by_id[item_id]
            try:
                waveform, sample_rate = item_waveform(item, data_dir)
            except Exception as exc:
                failed[item_id] = f"bad clip: {exc}"
                continue
            rank = {t: k for k, t in enumerate(decisions[item_id].tools)}
            results = sorted(evidence.get(item_id, []), key=lambda r: rank.get(r.tool, len(rank)))
            requests.append(ReasonerRequest(item_id, waveform, sample_rate, item.question, list(item.choices),
                                            item.answer or None, results))
        for outcome in reasoner.answer(requests) if requests else []:
            choices = by_id[outcome.item_id].choices
            prediction = choices[outcome.chosen_index] if 0 <= outcome.chosen_index < len(choices) else ""
            rows[outcome.item_id] = {"item_id": outcome.item_id, "chosen_index": int(outcome.chosen_index),
                                     "prediction": prediction, "answer": by_id[outcome.item_id].answer or None,
                                     "correct": outcome.correct, "error": outcome.error,
                                     "latency_ms": float(outcome.latency_ms)}
        for item_id, error in failed.items():
            rows[item_id] = {"item_id": item_id, "chosen_index": -1, "prediction": "",
                             "answer": by_id[item_id].answer or None,
                             "correct": False if by_id[item_id].answer else None, "error": error,
                             "latency_ms": 0.0}
        return [rows[i] for i in ids]

    report = run_chunks(ANSWERS, out, order, chunk_size, progress, ANSWERS_SCHEMA, work)
    if len(order) < len(items):
        report.notes.append(f"{len(items) - len(order)} items have no evidence yet (run `infer route` and "
                            "`infer tools` first)")
    summary = accuracy_summary(out)
    if summary:
        report.notes.append(summary)
    return report
