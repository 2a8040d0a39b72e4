"""Generation throughput of the perception suite, as JSON.

Runs side by side: the naive baseline (one process, and what raw 16-bit WAV would
cost per item) against the shipped path (a process pool, FLAC-encoded audio).

    python benchmarks/bench_synth.py [--n 600]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

from audiorouter.config import SynthConfig
from audiorouter.data.synth import synthesize_dataset


def run(n: int, workers: int) -> dict:
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        report = synthesize_dataset(SynthConfig(n=n, seed=0, workers=workers), out, progress=False)
        elapsed = time.perf_counter() - started
        files = list(Path(out).rglob("*.parquet"))
        parquet_bytes = sum(f.stat().st_size for f in files)
        samples = sum(float(pq.read_table(f, columns=["duration_s"]).column(0).to_numpy().sum()) for f in files) * 16000
    return {
        "workers": workers,
        "items": n,
        "seconds": round(elapsed, 2),
        "items_per_s": round(n / elapsed, 1),
        "flac_bytes_per_item": round(report.audio_bytes / n),
        "parquet_bytes_per_item": round(parquet_bytes / n),
        "raw_wav16_bytes_per_item": round(samples * 2 / n),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=600)
    args = parser.parse_args()
    naive = run(args.n, workers=1)
    pooled = run(args.n, workers=2)
    print(json.dumps({
        "benchmark": "synth_generation",
        "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version()},
        "naive_single_process": naive,
        "process_pool": pooled,
        "speedup_vs_naive": round(pooled["items_per_s"] / naive["items_per_s"], 2),
        "flac_compression_vs_raw_wav": round(naive["raw_wav16_bytes_per_item"] / naive["flac_bytes_per_item"], 2),
    }, indent=2))


if __name__ == "__main__":
    main()
