"""Speed of the LM router (``router.backend: lm``), as JSON.

One process, the same router LM, the same items (questions of the perception suite with
the machine's tools, at most ``--max-tools`` per subset), in alternating rounds (the
fastest round of each path counts: other processes share these cores):

* naive — every subset scored with its own full prompt (prompt + reply, one row each);
* shared — the shipped path: the prompt once, its keys and values shared by every
  subset's reply in one batched forward, the vocabulary head once per distinct reply
  prefix (router/lm_scoring.py).

Also one training step of the group-relative learner (forward and backward of one item's
distribution, the adapter's Adam step; the group's sampling timed apart), the same with
reasoning before routing (``--rationale-tokens``: a greedy decision, the rationales'
lengths, and a step whose group draws one rationale per sample), and
the bound: decisions/s if the shared path's matmuls (the body's on every token it runs,
the head's on every reply position) ran at the measured matmul peak of the LM's dtype
with no other cost.

    python benchmarks/bench_router_lm.py [--model qwen2.5-coder-0.5b] [--items 4] [--rounds 2] [--rationale-tokens 16]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from bench_reasoner import matmul_peak_gflops  # noqa: E402  (a sibling script, not a package)

from audiorouter.config import RouterConfig  # noqa: E402
from audiorouter.data.synth import generate_family_items  # noqa: E402
from audiorouter.rl.lm_learner import sample_groups, update, with_advantages  # noqa: E402
from audiorouter.router.actions import ActionSpace  # noqa: E402
from audiorouter.router.lm_policy import LMRouterPolicy  # noqa: E402
from audiorouter.router.lm_scoring import naive_continuation_logprobs  # noqa: E402
from audiorouter.tools import resolve_tools  # noqa: E402

FAMILIES = ("note_name", "tempo", "event_count", "loudness_compare")


def timed_decisions(score, prompts: list[list[int]]) -> tuple[float, list[np.ndarray]]:
    start = time.perf_counter()
    with torch.no_grad():
        rows = [score(prompt).float().cpu().numpy() for prompt in prompts]
    return time.perf_counter() - start, rows


def flops_per_decision(policy: LMRouterPolicy, prompt_tokens: float) -> float:
    """Matmul FLOPs of one shared-path decision: the body on the prompt and on every padded
    reply token, the float32 head once per distinct reply prefix (lm_scoring.py)."""
    body = 2 * sum(p.numel() for n, p in policy.lm.named_parameters() if "embed" not in n and "lora_" not in n)
    replies = len(policy.continuations) * max(len(c) for c in policy.continuations)
    prefixes = len({tuple(c[:j]) for c in policy.continuations for j in range(len(c))})
    head = 2 * policy.lm.get_output_embeddings().weight.numel()
    return body * (prompt_tokens + replies) + head * prefixes


def train_step_seconds(policy: LMRouterPolicy, prompt: list[int], group_size: int) -> tuple[float, float]:
    """One group-relative step on one item: (seconds to sample its group, seconds to update
    on it with one subset of the group rewarded)."""
    rng = np.random.default_rng(0)
    optimizer = torch.optim.Adam(policy.trainable_parameters(), lr=1e-4)
    start = time.perf_counter()
    groups = sample_groups(policy, [prompt], group_size, rng)
    sampled = time.perf_counter()
    rewards = [[float(i % 2) for i in range(group_size)]]  # a group with signal
    update(policy, optimizer, with_advantages(groups, rewards), epochs=1, minibatch_items=1, clip=0.2,
           entropy_coeff=0.0, rng=rng)
    return sampled - start, time.perf_counter() - sampled


def rationale_costs(policy: LMRouterPolicy, items, tokens: int, group_size: int, rounds: int) -> dict:
    """Reasoning before routing with the same LM and adapter: a greedy decision (the
    rationale drawn, the subsets scored after it) and one training step."""
    reasoning = LMRouterPolicy(policy.adapted, policy.tokenizer, policy.actions,
                               replace(policy.settings, rationale_tokens=tokens))
    prompts = [reasoning.prompt_ids(item) for item in items]
    decide_s = min(timed_decisions(lambda p: reasoning.greedy(p)[1], prompts)[0] for _ in range(rounds))
    lengths = [len(reasoning.rationale(p).tokens) for p in prompts]
    sample_s, update_s = min(train_step_seconds(reasoning, prompts[0], group_size) for _ in range(rounds))
    return {"rationale_tokens": tokens, "mean_rationale_tokens": round(float(np.mean(lengths)), 1),
            "seconds_per_decision": round(decide_s / len(items), 2),
            "train_step_one_item": {"group_size": group_size, "sample_seconds": round(sample_s, 2),
                                    "update_seconds": round(update_s, 2)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--items", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--max-tools", type=int, default=2)
    parser.add_argument("--group-size", type=int, default=4)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--rationale-tokens", type=int, default=16, help="0: skip reasoning before routing")
    args = parser.parse_args()
    actions = ActionSpace(tuple(resolve_tools(None)), "subsets", args.max_tools)
    policy = LMRouterPolicy.build(RouterConfig(backend="lm", lm_model=args.model, max_subsets_lm=1024), actions)
    # after the tools' registry is loaded: their modules pin this process to one thread
    torch.set_num_threads(args.threads or os.cpu_count() or 1)
    per_family = -(-args.items // len(FAMILIES))
    items = [it for f in FAMILIES for it in generate_family_items(f, per_family, seed=7)][: args.items]
    prompts = [policy.prompt_ids(item) for item in items]

    def naive(prompt: list[int]) -> torch.Tensor:
        scores = naive_continuation_logprobs(policy.lm, prompt, policy.continuations, policy.pad_id)
        return torch.log_softmax(scores / policy.settings.temperature, -1)

    policy.log_probs(prompts[0])  # warm-up (kernel selection)
    naive_runs, shared_runs = [], []
    for _ in range(args.rounds):
        naive_runs.append(timed_decisions(naive, prompts))
        shared_runs.append(timed_decisions(policy.log_probs, prompts))
    naive_s, naive_rows = min(naive_runs, key=lambda run: run[0])
    shared_s, shared_rows = min(shared_runs, key=lambda run: run[0])
    peak = matmul_peak_gflops(policy.lm.dtype, str(policy.lm.device))  # the body's dtype (the head runs in float32)
    mean_prompt = float(np.mean([len(p) for p in prompts]))
    bound = peak * 1e9 / flops_per_decision(policy, mean_prompt)
    sample_s, step_s = min(train_step_seconds(policy, prompts[0], args.group_size) for _ in range(args.rounds))
    gap = max(float(np.abs(a - b).max()) for a, b in zip(naive_rows, shared_rows, strict=True))
    result = {
        "benchmark": f"LM router scoring, {args.model} ({policy.lm.dtype}, {policy.lm.device})",
        "machine": {"cpu": platform.processor() or platform.machine(), "threads": torch.get_num_threads(),
                    "load_avg_1m": round(os.getloadavg()[0], 2)},
        "items": len(items), "subsets": len(actions.subsets), "tools": len(actions.tools),
        "mean_prompt_tokens": round(mean_prompt, 1),
        "reply_tokens": {"mean": round(float(np.mean([len(c) for c in policy.continuations])), 1),
                         "longest": max(len(c) for c in policy.continuations)},
        "naive": {"seconds": round(naive_s, 2), "decisions_per_s": round(len(items) / naive_s, 3),
                  "seconds_all_rounds": [round(run[0], 2) for run in naive_runs]},
        "shared_prefix": {"seconds": round(shared_s, 2), "decisions_per_s": round(len(items) / shared_s, 3),
                          "seconds_all_rounds": [round(run[0], 2) for run in shared_runs]},
        "speedup": round(naive_s / shared_s, 1),
        "largest_log_prob_difference": gap,
        "matmul_peak_gflops": {"dtype": str(policy.lm.dtype).removeprefix("torch."), "gflops": round(peak, 1)},
        "bound_decisions_per_s": round(bound, 3),
        "fraction_of_bound": round(len(items) / shared_s / bound, 3),
        "train_step_seconds_one_item": {"group_size": args.group_size, "seconds": round(step_s, 2),
                                        "sample_seconds": round(sample_s, 2)},
    }
    if args.rationale_tokens:
        result["reasoning_before_routing"] = rationale_costs(policy, items, args.rationale_tokens, args.group_size,
                                                             args.rounds)
    result["peak_rss_gib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)  # Linux: KiB
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
