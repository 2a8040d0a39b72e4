"""Audio tools: accuracy on the perception suite, latency, and batch throughput, as JSON.

    .venv/bin/python benchmarks/bench_tools.py                # full run (a few minutes on 2 cores)
    .venv/bin/python benchmarks/bench_tools.py --per-level 3 --batch-items 16   # quick

* accuracy: each family's tool (``audiorouter.tools.accuracy``) on ``--per-level`` items
  of each difficulty, overall and per level;
* latency: every available tool on one 10 s clip (suite items back to back), warm,
  median of ``--repeats`` runs: ms per 10 s clip and real-time factor (compute s / audio s);
* batch: ``tools run`` (the tool-executor pool) over a generated dataset with the core
  tools, 1 and 2 workers (fresh caches), then a rerun on the warm cache: clips/s end to
  end, and clips/s once the fixed cost (reading and decoding the clips, measured by the
  cached rerun, which starts no actor) is taken off.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")

import audiorouter.tools as tools  # noqa: E402
from audiorouter.config import SynthConfig, ToolsConfig  # noqa: E402
from audiorouter.data.audio_io import decode_audio  # noqa: E402
from audiorouter.data.synth import generate_family_items, synthesize_dataset  # noqa: E402
from audiorouter.tools.accuracy import CHECKS, FAMILY_TOOL, is_correct  # noqa: E402

LEVELS = ("easy", "medium", "hard")
CLIP_S = 10.0


def accuracy(per_level: int, seed: int) -> dict:
    out = {}
    for family, tool_name in FAMILY_TOOL.items():
        tool, by_level = tools.get_tool(tool_name), defaultdict(list)
        for level in LEVELS:
            for item in generate_family_items(family, per_level, seed, level):
                waveform, sr = decode_audio(item.audio)
                by_level[level].append(is_correct(family, tool.run(waveform, sr), item.meta))
        every = [ok for level in LEVELS for ok in by_level[level]]
        out[family] = {"tool": tool_name, "n": len(every), "accuracy": round(float(np.mean(every)), 3),
                       "by_level": {level: round(float(np.mean(by_level[level])), 3) for level in LEVELS}}
    return out


def ten_second_clip(seed: int) -> np.ndarray:
    """Suite items of every family back to back, cut to 10 s (music, hits, tones, gaps)."""
    pieces, total = [], 0
    for family in CHECKS:
        waveform, _ = decode_audio(generate_family_items(family, 1, seed)[0].audio)
        pieces.append(waveform)
        total += waveform.size
        if total >= CLIP_S * 16_000:
            break
    return np.concatenate(pieces)[: int(CLIP_S * 16_000)]


def latency(names: list[str], repeats: int, seed: int) -> dict:
    clip, out = ten_second_clip(seed), {}
    for name in names:
        tool = tools.get_tool(name)
        first = tool.run(clip, 16_000)  # loads models, compiles kernels
        times = [tool.run(clip, 16_000).elapsed_ms for _ in range(repeats)]
        ms = statistics.median(times)
        out[name] = {"ms_per_10s_clip": round(ms, 1), "real_time_factor": round(ms / 1000 / CLIP_S, 4),
                     "first_call_ms": round(first.elapsed_ms, 1), "ok": first.ok}
    return out


def batch(items: int, seed: int, names: list[str]) -> dict:
    import ray

    from audiorouter.tool_execution.batch import run_batch

    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "data"
            synthesize_dataset(SynthConfig(n=items, seed=seed, validation_fraction=0.0, test_fraction=0.0),
                               data, progress=False)
            runs = {}
            for label, workers, cache in (("workers_1", 1, "a"), ("workers_2", 2, "b"), ("cached_rerun_2", 2, "b")):
                config = ToolsConfig(cache_dir=str(Path(tmp) / cache), batch_size=4)
                report = run_batch(data, Path(tmp) / f"{label}.parquet", names, config, workers=workers)
                runs[label] = {"clips_per_s": round(report.clips_per_s, 3), "seconds": round(report.seconds, 2),
                               "items": report.items, "results": report.rows, "from_cache": report.cached,
                               "failed": report.failed}
    finally:
        ray.shutdown()
    fixed = runs["cached_rerun_2"]["seconds"]  # reading, decoding, the cache: what a cached run (no actors) still pays
    for label in ("workers_1", "workers_2"):
        compute = runs[label]["seconds"] - fixed
        runs[label]["clips_per_s_beyond_fixed_cost"] = round(items / compute, 3) if compute > 0 else None
    return {"tools": names, "cpus": os.cpu_count(), **runs}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-level", type=int, default=10, help="items per difficulty level per family")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per tool on the 10 s clip")
    parser.add_argument("--batch-items", type=int, default=60, help="clips in the batch dataset (0: skip)")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)
    available = tools.available_tools()
    core = [n for n in available if not tools.TOOLS.get(n).optional]
    started = time.perf_counter()
    report = {
        "accuracy": accuracy(args.per_level, args.seed),
        "latency": latency(available, args.repeats, args.seed),
        "batch": batch(args.batch_items, args.seed, core) if args.batch_items else None,
    }
    report["benchmark_seconds"] = round(time.perf_counter() - started, 1)
    json.dump(report, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
