"""Batch inference in three resumable stages over Parquet (see stages.py).

    route_stage(items, policy, "runs/infer")        # -> runs/infer/decisions/part-*.parquet
    tools_stage(items, "runs/infer", cfg.tools)     # -> runs/infer/evidence/part-*.parquet
    reason_stage(items, "runs/infer", reasoner)     # -> runs/infer/answers/part-*.parquet
"""

from audiorouter.inference.stages import (
    ANSWERS_SCHEMA,
    DECISIONS_SCHEMA,
    EVIDENCE_SCHEMA,
    StageReport,
    accuracy_summary,
    done_ids,
    read_answers,
    read_decisions,
    read_evidence,
    reason_stage,
    route_stage,
    tools_stage,
)

__all__ = [
    "ANSWERS_SCHEMA", "DECISIONS_SCHEMA", "EVIDENCE_SCHEMA", "StageReport", "accuracy_summary", "done_ids",
    "read_answers", "read_decisions", "read_evidence", "reason_stage", "route_stage", "tools_stage",
]
