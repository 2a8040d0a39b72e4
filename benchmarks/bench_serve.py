"""Latency and throughput of the online application over loopback HTTP.

    .venv/bin/python benchmarks/bench_serve.py [--router DIR] [--requests 64] [--seconds 1.0]

Starts a local Ray + Serve on 127.0.0.1 (a tiny random router when ``--router`` is not
given; cheap tools; the reference reasoner without memo), then for 1, 8 and 32
concurrent clients sends requests and prints JSON: p50/p95/p99 latency (ms) and req/s.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import soundfile as sf

TOOLS = ("loudness", "segments", "tempo")
CHOICES = ["slow", "medium", "fast"]


def clip(seconds: float, k: int) -> bytes:
    t = np.arange(int(seconds * 16_000)) / 16_000
    buf = io.BytesIO()
    sf.write(buf, (0.4 * np.sin(2 * np.pi * 220.0 * (1 + k % 4) * t)).astype(np.float32), 16_000, format="WAV")
    return buf.getvalue()


def tiny_router(directory: Path) -> Path:
    from audiorouter.router.actions import ActionSpace
    from audiorouter.router.features import FeatureSpec
    from audiorouter.router.policy import RouterNet, RouterPolicy

    spec = FeatureSpec(n_mels=8)
    actions = ActionSpace(TOOLS, "subsets", 2)
    return RouterPolicy(RouterNet(spec.dim, actions.num_logits, (8,)), actions, spec, (8,)).save(directory)


def run_level(url: str, clients: int, requests: int, seconds: float) -> dict:
    from audiorouter.serving.client import post_answer

    clips = [clip(seconds, k) for k in range(8)]

    def one(k: int) -> tuple[int, float]:
        start = time.perf_counter()
        status, _ = post_answer(url, clips[k % len(clips)], f"Question {k}: how fast is it?", CHOICES, timeout=120)
        return status, (time.perf_counter() - start) * 1000.0

    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(one, range(min(clients, 4))))  # warm-up
        start = time.perf_counter()
        results = list(pool.map(one, range(requests)))
        wall = time.perf_counter() - start
    latency = np.array([ms for status, ms in results if status == 200])
    pct = (lambda q: round(float(np.percentile(latency, q)), 1)) if latency.size else (lambda q: None)
    return {"clients": clients, "requests": requests, "errors": sum(s != 200 for s, _ in results),
            "p50_ms": pct(50), "p95_ms": pct(95), "p99_ms": pct(99), "req_per_s": round(requests / wall, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--router", help="policy folder (default: a tiny random router)")
    parser.add_argument("--requests", type=int, default=64, help="requests per concurrency level")
    parser.add_argument("--seconds", type=float, default=1.0, help="clip length")
    parser.add_argument("--levels", default="1,8,32")
    args = parser.parse_args(argv)

    import ray
    from ray import serve

    from audiorouter.config import load_config
    from audiorouter.serving.app import start

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    tmp = Path(tempfile.mkdtemp(prefix="bench_serve_"))
    router = args.router or str(tiny_router(tmp / "policy"))
    cfg = load_config(None, ["tools.enabled=[" + ",".join(TOOLS) + "]", "tools.cache_dir=", "reasoner.memo_path="])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        start(router, cfg.tools, cfg.reasoner, port=port, num_cpus=0.5)
        url = f"http://127.0.0.1:{port}/v1/answer"
        levels = [run_level(url, int(c), args.requests, args.seconds) for c in args.levels.split(",")]
        print(json.dumps({"clip_seconds": args.seconds, "cpus": os.cpu_count(), "tools": list(TOOLS),
                          "reasoner": cfg.reasoner.backend, "levels": levels}, indent=2))
    finally:
        serve.shutdown()
        ray.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
