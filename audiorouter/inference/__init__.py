"""Batch inference in three resumable Ray Data stages over Parquet: route, tools, reason
(``stages``). Imports every role below it but the study and training.
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
