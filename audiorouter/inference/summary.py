"""What one ``audiorouter infer`` command did, as numbers: written to ``OUT/infer_summary.json``
and logged to MLflow (one run per command, named ``infer-<split>``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from audiorouter.inference.parts import answer_counts
from audiorouter.inference.stages import StageReport

SUMMARY_FILE = "infer_summary.json"


def stage_metrics(reports: Sequence[StageReport]) -> dict[str, float]:
    """Per stage run: items processed and skipped, seconds, items per second."""
    metrics: dict[str, float] = {}
    for report in reports:
        metrics[f"{report.stage}.processed"] = report.processed
        metrics[f"{report.stage}.skipped"] = report.skipped
        metrics[f"{report.stage}.seconds"] = round(report.seconds, 3)
        if report.processed and report.seconds > 0:
            metrics[f"{report.stage}.items_per_s"] = round(report.processed / report.seconds, 3)
    return metrics


def answer_metrics(out: str | Path) -> dict[str, float]:
    """Over every answer in ``OUT/answers`` (this run's and earlier ones): counts and accuracy."""
    counts = answer_counts(out)
    if not counts["answered"]:
        return {}
    metrics: dict[str, float] = {f"answers.{k}": v for k, v in counts.items()}
    if counts["labelled"]:
        metrics["accuracy"] = round(counts["correct"] / counts["labelled"], 4)
    return metrics


def write_summary(out: str | Path, reports: Sequence[StageReport], params: dict[str, Any]) -> tuple[Path, dict]:
    """``OUT/infer_summary.json`` with the parameters, the stage reports and the metrics."""
    metrics = {**stage_metrics(reports), **answer_metrics(out)}
    summary = {"params": params, "metrics": metrics,
               "stages": [{"stage": r.stage, "items": r.items, "processed": r.processed, "skipped": r.skipped,
                           "parts": r.parts, "seconds": round(r.seconds, 3), "notes": r.notes} for r in reports]}
    path = Path(out) / SUMMARY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2))
    return path, metrics
