"""Speed of the model back-ends' scoring path, as JSON.

CPU (default): a packaged model through ``cascade`` (``--model``: SmolLM2-135M by default,
``qwen2.5-coder-1.5b`` for the real reasoner of configs/lm.yaml), side by side in one process:

* naive — float32, one request at a time, the full prompt each time;
* optimised — the shipped path: bf16 where the CPU multiplies it natively, batches,
  and every span the prompts share (system turn, question and choices, leading
  evidence lines) computed once and its KV states reused (reuse_prefix, prefix_tree.py).

The workload is what training asks: questions of the perception suite, each with
several evidence variants (no tool, single tools, several tools), ~250-token prompts.
Also reports the machine's measured matmul peak and the achieved fraction of it, and a
bound: the rate the optimised path would reach if its matmuls ran at that peak and its
unpadded attention at SDPA's measured best rate, with no other cost.

GPU (``--lalm qwen2_audio|qwen2_5_omni_thinker``): a full-size randomly initialised model
(weights do not matter for speed) through ``lalm`` in bf16, batched.

    python benchmarks/bench_reasoner.py [--model qwen2.5-coder-1.5b] [--workloads router_group]
        [--questions 4] [--naive-questions 1] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time

import torch

from audiorouter.config import ReasonerConfig
from audiorouter.contracts import ReasonerRequest, ToolResult
from audiorouter.data.audio_io import decode_audio
from audiorouter.data.synth import generate_family_items
from audiorouter.reasoner import build_backend

FAMILIES = ("note_name", "tempo", "loudness_compare", "gap_position")
EVIDENCE = [  # summaries in the style and length of the real tools
    ToolResult("loudness", "1", True, "integrated -14.3 LUFS, peak -3.6 dBFS; first sound 0.19-0.61 s -14.2 LUFS; "
               "second sound 0.71-1.13 s -13.8 LUFS; loudest: second sound by 0.4 dB"),
    ToolResult("onsets", "1", True, "6 events at 0.22, 0.74, 1.27, 1.79, 2.32, 2.84 s"),
    ToolResult("pitch", "1", True, "median pitch 415.1 Hz (G#4), voiced 0.20-3.24 s; 6 stable notes: G4 0.20-0.62 s, "
               "G4 0.72-1.14 s, D#5 1.76-2.20 s, D5 2.30-2.72 s"),
    ToolResult("segments", "1", True, "6 segments: 0.19-0.61 s, 0.71-1.13 s, 1.24-1.66 s, 1.76-2.19 s, 2.29-2.71 s, "
               "2.81-3.24 s (2.54 s sounding in total)"),
    ToolResult("spectral", "1", True, "centroid 1530 Hz (bright), roll-off 2998 Hz; first sound centroid 1389 Hz"),
    ToolResult("tempo", "1", True, "tempo 114.4 BPM; 6 beats 0.23-2.85 s"),
]
WORKLOADS = {  # evidence variants (tool subsets) asked per question
    "multi_tool_subsets": [[0, 2], [1, 3], [2, 5], [3, 4], [0, 1, 2], [2, 3, 5], [1, 4, 5], [0, 2, 3, 5]],
    "router_group": [[], [0], [1], [2], [3], [4], [5], [0, 1, 2, 3, 4, 5]],  # no tool, each tool, all
}
VARIANTS = WORKLOADS["multi_tool_subsets"]


def workload(n_questions: int, variants: list[list[int]] = VARIANTS) -> list[ReasonerRequest]:
    """``n_questions`` questions x len(variants) evidence variants, variants adjacent."""
    requests = []
    per_family = -(-n_questions // len(FAMILIES))
    items = [it for f in FAMILIES for it in generate_family_items(f, per_family, seed=7)][:n_questions]
    for item in items:
        waveform, sr = decode_audio(item.audio)
        for subset in variants:
            evidence = [EVIDENCE[i] for i in subset]
            requests.append(ReasonerRequest(item.id, waveform, sr, item.question, item.choices, item.answer, evidence))
    return requests


def matmul_peak_gflops(dtype: torch.dtype, device: str, n: int = 2048, repeats: int = 5) -> float:
    a = torch.randn(n, n, dtype=dtype, device=device)
    b = torch.randn(n, n, dtype=dtype, device=device)
    best = 0.0
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        a @ b
        sync(device)
        best = max(best, 2 * n**3 / (time.perf_counter() - start) / 1e9)
    return best


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(reasoner, requests: list[ReasonerRequest], one_at_a_time: bool) -> tuple[float, float, list]:
    """(wall seconds, process CPU seconds, outcomes); CPU time shows work done when
    other processes share the cores."""
    reasoner.answer(requests[:2])  # warm-up (kernel selection)
    start, cpu_start = time.perf_counter(), time.process_time()
    if one_at_a_time:
        outcomes = [reasoner.answer([r])[0] for r in requests]
    else:
        outcomes = reasoner.answer(requests)
    return time.perf_counter() - start, time.process_time() - cpu_start, outcomes


def prompt_tokens(reasoner, requests: list[ReasonerRequest]) -> list[int]:
    texts = [o.prompt for o in reasoner.answer(requests)]
    return [len(reasoner.tokenizer.encode(t, add_special_tokens=False)) for t in texts]


def computed_work(reasoner, requests: list[ReasonerRequest]) -> tuple[int, int]:
    """What the optimised path runs through the model, counted at the scorer's forward
    calls, padding excluded: (tokens, (token, key) pairs its attention scores), where a
    token attends to its chain's cached keys and to the tokens of its piece up to itself."""
    real, tokens, pairs = reasoner.scorer.forward, [0], [0]

    def counting(pieces, chains):
        for (_, start, end), chain in zip(pieces, chains, strict=True):
            n, cached = end - start, sum(state[0][0].shape[2] for state in chain)
            tokens[0] += n
            pairs[0] += n * cached + n * (n + 1) // 2
        return real(pieces, chains)

    reasoner.scorer.forward = counting
    try:
        reasoner.answer(requests)
    finally:
        reasoner.scorer.forward = real
    return tokens[0], pairs[0]


def attention_peak_gflops(config, dtype: torch.dtype, repeats: int = 5) -> float:
    """SDPA throughput without a mask (its best case) at the shapes of a tail forward:
    8 pieces of 128 queries over 384 keys, the model's heads and head size."""
    heads = config.num_attention_heads
    dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    q = torch.randn(8, heads, 128, dim, dtype=dtype)
    k, v = torch.randn(8, heads, 384, dim, dtype=dtype), torch.randn(8, heads, 384, dim, dtype=dtype)
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        torch.nn.functional.scaled_dot_product_attention(q, k, v)
        best = max(best, 4 * q.numel() * k.shape[2] / (time.perf_counter() - start) / 1e9)
    return best


def rate_bound(requests: int, tokens: int, pairs: int, flops_per_token: int, config, matmul_peak: float,
               attention_peak: float) -> float:
    """Requests/s the optimised path could reach at best: its matmul FLOPs at the matmul
    peak plus its (unpadded) attention FLOPs at the attention peak, nothing else."""
    attention_flops = 4 * pairs * config.num_hidden_layers * config.num_attention_heads * (
        getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads)
    seconds = tokens * flops_per_token / (matmul_peak * 1e9) + attention_flops / (attention_peak * 1e9)
    return requests / seconds


def measure_peaks(config, dtype: torch.dtype) -> dict[str, float]:
    return {"float32": matmul_peak_gflops(torch.float32, "cpu"), "bfloat16": matmul_peak_gflops(torch.bfloat16, "cpu"),
            "attention": attention_peak_gflops(config, dtype)}


def cpu_benchmark(args) -> dict:
    torch.set_num_threads(args.threads or os.cpu_count() or 1)
    base = dict(backend="cascade", model=args.model, memo_path="", device="cpu")
    naive = build_backend(ReasonerConfig(**base, dtype="float32", batch_size=1, reuse_prefix=False))
    fast = build_backend(ReasonerConfig(**base, dtype="auto", batch_size=args.batch_size, reuse_prefix=True))
    params = sum(p.numel() for n, p in fast.model.named_parameters() if "embed" not in n)
    config = fast.scorer.text_config
    result = {
        "benchmark": f"reasoner scoring, {args.model} via cascade ({fast.config.score_target} scoring, "
                     f"calibration {fast.config.calibration})",
        "machine": {"cpu": platform.processor() or platform.machine(), "threads": torch.get_num_threads(),
                    "load_avg_1m_before": round(os.getloadavg()[0], 2)},
        "non_embedding_params": params,
    }
    before = measure_peaks(config, fast.dtype)
    work = {name: compare(naive, fast, WORKLOADS[name], args, 2 * params) for name in args.workloads.split(",")}
    after = measure_peaks(config, fast.dtype)
    # other VMs share these cores in bursts: the best of the two measurements is the peak
    peaks = {key: max(before[key], after[key]) for key in before}
    result["machine"]["load_avg_1m_after"] = round(os.getloadavg()[0], 2)
    result["peak_gflops"] = {key: round(value, 1) for key, value in peaks.items()}
    result["peak_gflops_before_and_after"] = {key: [round(before[key], 1), round(after[key], 1)] for key in before}
    for name, (entry, raw) in work.items():
        result[name] = against_peaks(entry, raw, peaks, 2 * params, config)
    return result


def compare(naive, fast, variants, args, flops_per_token: int) -> tuple[dict, dict]:
    """Naive and optimised paths on one workload, alternating for ``args.rounds`` rounds and
    keeping each path's fastest round (other processes share this machine's cores):
    (the result entry, the raw counts ``against_peaks`` needs)."""
    requests = workload(args.questions, variants)
    naive_requests = requests[: args.naive_questions * len(variants)]
    naive_runs, fast_runs = [], []
    for _ in range(args.rounds):
        naive_runs.append(timed(naive, naive_requests, one_at_a_time=True))
        fast_runs.append(timed(fast, requests, one_at_a_time=False))
    naive_s, naive_cpu, naive_out = min(naive_runs, key=lambda run: run[0])
    fast_s, fast_cpu, fast_out = min(fast_runs, key=lambda run: run[0])
    lengths = prompt_tokens(fast, requests)
    fast_dtype = str(fast.dtype).removeprefix("torch.")
    naive_gflops = sum(lengths[: len(naive_requests)]) * flops_per_token / naive_s / 1e9
    computed, pairs = computed_work(fast, requests)
    fast_gflops = computed * flops_per_token / fast_s / 1e9
    entry = {
        "questions": args.questions, "variants_per_question": len(variants),
        "mean_prompt_tokens": round(sum(lengths) / len(lengths), 1),
        "naive": {"dtype": "float32", "batch": 1, "reuse_prefix": False, "requests": len(naive_requests),
                  "seconds": round(naive_s, 2), "cpu_seconds": round(naive_cpu, 2),
                  "seconds_all_rounds": [round(run[0], 2) for run in naive_runs],
                  "requests_per_s": round(len(naive_requests) / naive_s, 2),
                  "achieved_gflops": round(naive_gflops, 1)},
        "optimised": {"dtype": fast_dtype, "batch": args.batch_size, "reuse_prefix": True,
                      "requests": len(requests), "seconds": round(fast_s, 2), "cpu_seconds": round(fast_cpu, 2),
                      "seconds_all_rounds": [round(run[0], 2) for run in fast_runs],
                      "requests_per_s": round(len(requests) / fast_s, 2),
                      "computed_tokens_per_request": round(computed / len(requests), 1),
                      "achieved_gflops_on_computed_tokens": round(fast_gflops, 1)},
        "speedup": round((len(requests) / fast_s) / (len(naive_requests) / naive_s), 1),
        "same_choice_as_naive": f"{agreeing(naive_out, fast_out)}/{len(naive_out)}",
    }
    raw = {"naive_rate": len(naive_requests) / naive_s, "fast_rate": len(requests) / fast_s, "requests": len(requests),
           "naive_gflops": naive_gflops, "fast_gflops": fast_gflops, "fast_dtype": fast_dtype,
           "computed": computed, "pairs": pairs}
    return entry, raw


def against_peaks(entry: dict, raw: dict, peaks: dict, flops_per_token: int, config) -> dict:
    """``entry`` with each path's fraction of its matmul peak, and the optimised path's bound."""
    bound = rate_bound(raw["requests"], raw["computed"], raw["pairs"], flops_per_token, config,
                       peaks[raw["fast_dtype"]], peaks["attention"])
    entry["naive"]["fraction_of_matmul_peak"] = round(raw["naive_gflops"] / peaks["float32"], 3)
    entry["optimised"].update({
        "fraction_of_matmul_peak": round(raw["fast_gflops"] / peaks[raw["fast_dtype"]], 3),
        "bound_requests_per_s": round(bound, 2), "fraction_of_bound": round(raw["fast_rate"] / bound, 3)})
    entry["speedup_bound"] = round(bound / raw["naive_rate"], 1)
    return entry


def agreeing(naive_out: list, fast_out: list) -> int:
    """How many of the naive path's requests got the same choice on the fast path."""
    return sum(a.chosen_index == b.chosen_index for a, b in zip(naive_out, fast_out[: len(naive_out)], strict=True))


def gpu_benchmark(args) -> dict:
    """Full-size random ``args.lalm`` in bf16 on CUDA: batched without shared spans
    against batched with them, both loaded at once and timed in alternating rounds after
    a warm-up at the full batch size (the fastest round of each counts)."""
    from audiorouter.testing.synthetic_models import save_synthetic_model

    requests = workload(args.questions)
    result: dict = {"benchmark": f"reasoner scoring, full-size random {args.lalm} via lalm (bf16, letter scoring)",
                    "device": torch.cuda.get_device_name(0), "requests": len(requests), "batch": args.batch_size,
                    "variants_per_question": len(VARIANTS), "rounds": args.rounds}
    with tempfile.TemporaryDirectory() as tmp:
        path = save_synthetic_model(args.lalm, tmp, size="full", dtype=torch.bfloat16)
        paths = {}
        for name, reuse in (("batched", False), ("batched_shared_spans", True)):
            config = ReasonerConfig(backend="lalm", model=str(path), memo_path="", dtype="bfloat16", device="cuda",
                                    batch_size=args.batch_size, reuse_prefix=reuse)
            paths[name] = build_backend(config)
            paths[name].answer(requests[: args.batch_size])  # warm-up at the timed batch shapes
        runs = {name: [] for name in paths}
        for _ in range(args.rounds):
            for name, reasoner in paths.items():
                runs[name].append(timed(reasoner, requests, one_at_a_time=False))
        choices = {name: [o.chosen_index for o in min(r, key=lambda run: run[0])[2]] for name, r in runs.items()}
        for name, reasoner in paths.items():
            best = min(run[0] for run in runs[name])
            result["params"] = sum(p.numel() for p in reasoner.model.parameters())
            result[name] = {"shares_spans": reasoner.shares_prefixes(), "seconds": round(best, 2),
                            "seconds_all_rounds": [round(run[0], 2) for run in runs[name]],
                            "requests_per_s": round(len(requests) / best, 2),
                            "errors": sum(o.error is not None for o in runs[name][-1][2])}
        result["same_choice"] = sum(a == b for a, b in zip(*choices.values(), strict=True))
        del paths
        torch.cuda.empty_cache()
    result["speedup_from_shared_spans"] = round(result["batched"]["seconds"] / result["batched_shared_spans"]["seconds"], 2)
    result["matmul_peak_gflops_bf16"] = round(matmul_peak_gflops(torch.bfloat16, "cuda", n=8192), 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2", help="cascade model: a packaged preset, folder or .gguf file")
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help=f"comma-separated: {', '.join(WORKLOADS)}")
    parser.add_argument("--questions", type=int, default=4, help="questions (x8 evidence variants), optimised path")
    parser.add_argument("--naive-questions", type=int, default=1, help="questions (x8 variants) for the naive path")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; the fastest of each path counts")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: one per core)")
    parser.add_argument("--lalm", choices=["qwen2_audio", "qwen2_5_omni_thinker"], help="GPU: time lalm instead")
    args = parser.parse_args()
    unknown = sorted(set(args.workloads.split(",")) - set(WORKLOADS))
    if unknown:
        parser.error(f"unknown workload {unknown[0]!r}; valid: {', '.join(WORKLOADS)}")
    result = gpu_benchmark(args) if args.lalm else cpu_benchmark(args)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
