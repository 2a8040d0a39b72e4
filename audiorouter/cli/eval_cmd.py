"""``audiorouter eval``: a trained router against every baseline on one split."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from audiorouter.cli.common import add_leaf, load_with_flags

log = logging.getLogger(__name__)


def register(commands: argparse._SubParsersAction) -> None:
    parser = add_leaf(
        commands,
        "eval",
        help="evaluate a trained router against no tools / all tools / each tool / random / oracle",
        description="Accuracy of no tools, all tools, each single tool, random routing (matched to the "
        "router's tool rate), the trained router and oracle routing, overall and per task family, category, "
        "sub-category and difficulty, with tools and tool time per item and paired bootstrap intervals for the "
        "router vs each baseline. Writes report.txt/json, PNG charts and predictions.jsonl, plus, for "
        "imported MMAU/MMAR items, their records with the chosen choice's text for the benchmarks' scoring "
        "scripts (mmau_predictions.json: model_prediction and model_output; mmar_predictions.jsonl or .json, "
        "as imported: answer_prediction), and logs them to MLflow.",
    )
    parser.add_argument("--data", help="dataset folder (data.dir)")
    parser.add_argument("--split", help="split to evaluate (run.eval_split)")
    parser.add_argument("--router", required=True,
                        help="a checkpoint folder (runs/NAME/checkpoints/iter-N) or its policy/ folder")
    parser.add_argument("--out", help="output folder (default: run.out_dir/eval-SPLIT)")
    parser.add_argument("--limit", type=int, help="first N items of the split (run.eval_limit)")
    parser.add_argument("--resamples", type=int, default=2000, help="paired bootstrap resamples (default 2000)")
    parser.set_defaults(handler=run_eval)


def run_eval(args: argparse.Namespace) -> int:
    from audiorouter.data.items import iter_items
    from audiorouter.data.synth.staleness import stale_suite_reason
    from audiorouter.evaluation.evaluate import EvalSettings, evaluate_router, oracle_subsets, reasoner_label
    from audiorouter.outcomes.pipeline import (
        PipelineOutcomeSource,
        PipelineSourceSpec,
        host_configured_reasoner,
    )
    from audiorouter.outcomes.state_check import check_shared_state
    from audiorouter.router.lm_policy import check_lm_router
    from audiorouter.router.loading import load_router, prompted_lines
    from audiorouter.tracking.mlflow_tracker import Tracker

    cfg = load_with_flags(args, {"data.dir": args.data, "run.eval_split": args.split, "run.eval_limit": args.limit})
    policy = load_router(args.router)
    if cfg.run.prompted_router:  # its LM missing, too many subsets: refused before any work
        check_lm_router(cfg.router, policy.actions)
    check_shared_state(cfg)  # a damaged memo, cache or MLflow store: one clear error, now
    items = list(iter_items(cfg.data.dir, cfg.run.eval_split))[: cfg.run.eval_limit or None]
    if not items:
        raise SystemExit(f"no items in split {cfg.run.eval_split!r} under {cfg.data.dir}")
    if reason := stale_suite_reason(cfg.data.dir, cfg.run.eval_split):
        raise SystemExit(reason)
    out = Path(args.out or Path(cfg.run.out_dir) / f"eval-{cfg.run.eval_split}")
    hosted = host_configured_reasoner(cfg)
    source = PipelineOutcomeSource(PipelineSourceSpec.from_config(cfg, cfg.data.dir, (cfg.run.eval_split,),
                                                                  [i.id for i in items], local_memo=True))
    tools = list(policy.actions.tools)
    settings = EvalSettings(resamples=args.resamples, seed=cfg.train.seed,
                            feature_cache_dir=cfg.router.feature_cache_dir or None)
    lines = prompted_lines(cfg.router, policy) if cfg.run.prompted_router else {}
    report, routed = evaluate_router(policy, items, source, tools, oracle_subsets(policy.actions),
                                     cfg.run.eval_split, reasoner_label(cfg.reasoner), out, settings, lines)
    files = write_predictions(items, routed, source, out)
    if hosted is not None:
        hosted.stop()
    tracker = Tracker(cfg.tracking, f"eval-{cfg.run.eval_split}")
    tracker.log_params({"router": str(args.router), "data.dir": cfg.data.dir, "split": cfg.run.eval_split,
                        "items": len(items), "reasoner": reasoner_label(cfg.reasoner), "resamples": args.resamples})
    tracker.log_metrics(report.metrics(), step=0)
    for path in sorted(out.iterdir()):
        tracker.log_artifact(path)
    tracker.finish()
    print(report.render())
    print(f"\nwrote {out}/ ({', '.join(p.name for p in files)} and the report files); "
          f"MLflow run {tracker.run_id} in {tracker.uri}")
    return 0


def write_predictions(items, routed, source, out: Path) -> list[Path]:
    """The router's answers: ``predictions.jsonl`` and the MMAU/MMAR write-back files
    (``data.importers.predictions``)."""
    from audiorouter.data.importers.predictions import prediction_text, write_benchmark_predictions

    answers = source.answers([i.id for i in items], list(routed))  # asked already while evaluating
    predictions = {i.id: prediction_text(i.choices, chosen) for i, (chosen, _) in zip(items, answers, strict=True)}
    path = out / "predictions.jsonl"
    with path.open("w") as handle:
        for item, tools, (_, correct) in zip(items, routed, answers, strict=True):
            handle.write(json.dumps({"id": item.id, "tools": list(tools), "prediction": predictions[item.id],
                                     "answer": item.answer, "correct": correct}) + "\n")
    return [path, *write_benchmark_predictions(items, predictions, out)]
