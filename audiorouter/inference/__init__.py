"""Batch inference in three resumable Ray Data stages over Parquet (see stages.py).

    route_stage(data, "test", "runs/infer", policy_dir)   # -> runs/infer/decisions/part-*.parquet
    tools_stage(data, "test", "runs/infer", cfg.tools)     # -> runs/infer/evidence/part-*.parquet
    reason_stage(data, "test", "runs/infer", cfg.reasoner) # -> runs/infer/answers/part-*.parquet

Evidence parts follow ``contracts.EVIDENCE_SCHEMA`` and are read with
``tools.item_evidence.read_evidence``, as every evidence table is.
"""

from audiorouter.inference.parts import (
    ANSWERS_SCHEMA,
    DECISIONS_SCHEMA,
    accuracy_summary,
    done_ids,
    read_answers,
    read_decisions,
)
from audiorouter.inference.stages import StageReport, reason_stage, route_stage, tools_stage

__all__ = [
    "ANSWERS_SCHEMA", "DECISIONS_SCHEMA", "StageReport", "accuracy_summary", "done_ids",
    "read_answers", "read_decisions", "reason_stage", "route_stage", "tools_stage",
]
