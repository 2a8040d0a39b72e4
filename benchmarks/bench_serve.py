"""Latency and throughput of the online application over loopback HTTP.

    .venv/bin/python benchmarks/bench_serve.py [--requests 64] [--seconds 1.0]
    .venv/bin/python benchmarks/bench_serve.py --router runs/quickstart/checkpoints/iter-40 \
        --data data/perception --split test

Starts a local Ray + Serve on 127.0.0.1 with the reference reasoner (no memo, no tool
cache: every request does the work), then for 1, 8, 32, 100 and 300 concurrent clients
sends requests while three processes probe every 0.1 s, and prints JSON: p50/p95
latency (ms) of the answers, of the refusals (503 beyond the admission limits) and of
each probe, answers/s, tools per request and, on dataset items, accuracy. The probes:
``/healthz`` and ``/readyz``, and side by side the naive baseline, a probe through the
answering application (GET /v1/answer, answered 405 at once by its ingress), which is
where /healthz was answered before it had an application of its own. Per level also the
reasoner's answer() calls of that level from ``/stats`` (calls, requests, mean batch
size). Without ``--router``: a tiny random router over ``--tools`` (three cheap ones by
default) and sine clips; with it: the router's own tools and, with ``--data``, the
split's real clips and questions.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import shutil
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


def tiny_router(directory: Path, tools: tuple[str, ...] = TOOLS) -> Path:
    """A random router, the same one every run (seeded): runs route alike and compare."""
    import torch

    from audiorouter.features import FeatureSpec
    from audiorouter.router.actions import ActionSpace
    from audiorouter.router.policy import RouterNet, RouterPolicy

    torch.manual_seed(0)
    spec = FeatureSpec(n_mels=8)
    actions = ActionSpace(tools, "subsets", 2)
    return RouterPolicy(RouterNet(spec.dim, actions.num_logits, (8,)), actions, spec, (8,)).save(directory)


def sine_requests(seconds: float) -> list[tuple[bytes, str, list[str], str | None]]:
    return [(clip(seconds, k), f"Question {k}: how fast is it?", CHOICES, None) for k in range(8)]


def dataset_requests(data_dir: str, split: str, n: int) -> list[tuple[bytes, str, list[str], str | None]]:
    from audiorouter.data.items import iter_items

    items = [item for _, item in zip(range(n), iter_items(data_dir, split), strict=False)]
    return [(item.audio, item.question, list(item.choices), item.answer) for item in items]


def percentiles(values: list[float]) -> dict:
    array = np.array(values)
    if not array.size:
        return {"n": 0, "p50_ms": None, "p95_ms": None}
    return {"n": int(array.size), "p50_ms": round(float(np.percentile(array, 50)), 1),
            "p95_ms": round(float(np.percentile(array, 95)), 1), "max_ms": round(float(array.max()), 1)}


def probe(url: str, stop, times) -> None:
    """Latency (ms) of GET ``url``, sent every 0.1 s until ``stop``, appended to ``times``;
    a failure counts as its time. Run in a process of its own, as a health checker is:
    in the clients' process, their threads' share of the GIL would be measured too."""
    from audiorouter.serving.client import get_json

    while not stop.is_set():
        start = time.perf_counter()
        try:
            get_json(url, timeout=30)
        except OSError:
            pass
        times.append((time.perf_counter() - start) * 1000.0)
        stop.wait(0.1)


def run_level(base: str, clients: int, requests: int, payloads: list) -> dict:
    """``requests`` answers from ``clients`` threads, while three processes probe
    /healthz, /readyz and the answering app: latency of each, and how many answers were
    refused (503)."""
    from audiorouter.serving.client import post_answer

    def one(k: int) -> tuple[int, float, dict]:
        audio, question, choices, _ = payloads[k % len(payloads)]
        start = time.perf_counter()
        status, body = post_answer(base + "/v1/answer", audio, question, choices, timeout=300)
        return status, (time.perf_counter() - start) * 1000.0, body

    context = multiprocessing.get_context("spawn")
    with ThreadPoolExecutor(max_workers=clients) as pool, context.Manager() as manager:
        list(pool.map(one, range(min(clients, 4))))  # warm-up
        batches_before = reasoner_batches(base)
        stop = manager.Event()
        probe_times = {path: manager.list() for path in ("/healthz", "/readyz", "/v1/answer")}
        probes = [context.Process(target=probe, args=(base + path, stop, times)) for path, times in probe_times.items()]
        for process in probes:
            process.start()
        start = time.perf_counter()
        results = list(pool.map(one, range(requests)))
        wall = time.perf_counter() - start
        stop.set()
        for process in probes:
            process.join()
        healthz, readyz, through_work = (list(times) for times in probe_times.values())
    batches = reasoner_batches(base)
    calls, answered = batches["calls"] - batches_before["calls"], batches["requests"] - batches_before["requests"]
    ok = [(k, ms, body) for k, (status, ms, body) in enumerate(results) if status == 200]
    statuses = [status for status, _, _ in results]
    level = {"clients": clients, "requests": requests, "ok": len(ok), "refused_503": statuses.count(503),
             "other_errors": len(statuses) - len(ok) - statuses.count(503),
             "answer": percentiles([ms for _, ms, _ in ok]), "refusal": percentiles([ms for st, ms, _ in results if st == 503]),
             "healthz": percentiles(healthz), "readyz": percentiles(readyz),
             "probe_through_the_answering_app": percentiles(through_work),
             "answers_per_s": round(len(ok) / wall, 2),
             "reasoner_batches": {"calls": calls, "requests": answered,
                                  "mean_size": round(answered / calls, 2) if calls else None},
             "tools_per_request": round(float(np.mean([len(b["tools"]) for _, _, b in ok])), 2) if ok else None}
    labelled = [(b["answer"], payloads[k % len(payloads)][3]) for k, _, b in ok if payloads[k % len(payloads)][3]]
    if labelled:
        level["accuracy"] = round(sum(a == truth for a, truth in labelled) / len(labelled), 3)
    return level


def reasoner_batches(base: str) -> dict:
    """The reasoner's answer() calls so far (``/stats``): calls and requests."""
    from audiorouter.serving.client import get_json

    status, body = get_json(base + "/stats", timeout=60)
    if status != 200:
        raise RuntimeError(f"/stats answered {status}: {body}")
    return body["reasoner_batches"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--router", help="policy folder (default: a tiny random router over --tools)")
    parser.add_argument("--tools", default=",".join(TOOLS), help="the tiny router's tools (without --router)")
    parser.add_argument("--requests", type=int, default=0,
                        help="requests per concurrency level (default: as many as its clients, at least 64)")
    parser.add_argument("--seconds", type=float, default=1.0, help="clip length")
    parser.add_argument("--levels", default="1,8,32,100,300")
    parser.add_argument("--data", help="dataset folder: send its clips and questions (needs --router)")
    parser.add_argument("--split", default="test")
    args = parser.parse_args(argv)

    import ray

    from audiorouter.cluster.session import start_ray
    from audiorouter.config import load_config
    from audiorouter.router.policy import RouterPolicy, policy_dir
    from audiorouter.serving.app import start

    tmp = Path(tempfile.mkdtemp(prefix="bench_serve_"))
    router = str(policy_dir(args.router)) if args.router else str(tiny_router(tmp / "policy", tuple(args.tools.split(","))))
    tools = RouterPolicy.load(router).actions.tools
    payloads = dataset_requests(args.data, args.split, args.requests) if args.data else sine_requests(args.seconds)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = load_config(None, ["tools.enabled=[" + ",".join(tools) + "]", "tools.cache_dir=", "reasoner.memo_path=",
                             f"serve.port={port}", "serve.num_cpus=0.5"])
    start_ray()
    try:
        start(router, cfg.tools, cfg.reasoner, cfg.serve)
        base = f"http://127.0.0.1:{port}"
        levels = [run_level(base, int(c), args.requests or max(64, int(c)), payloads) for c in args.levels.split(",")]
    finally:
        ray.shutdown()  # ends Serve with the session (serve.shutdown() prints controller retries to stdout)
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps({"router": args.router or "tiny random", "requests_from": args.data or "sine clips",
                      "clip_seconds": None if args.data else args.seconds, "cpus": os.cpu_count(),
                      "tools": list(tools), "reasoner": f"{cfg.reasoner.backend} reasoner",
                      "admission": {"max_ongoing_requests": cfg.serve.max_ongoing_requests,
                                    "max_queued_requests": cfg.serve.max_queued_requests,
                                    "max_bodies_mb": cfg.serve.max_bodies_mb, "retry_after_s": cfg.serve.retry_after_s},
                      "reasoner_max_batch_size": cfg.reasoner.serve_max_batch_size,
                      "levels": levels}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
