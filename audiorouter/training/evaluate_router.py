"""The end-of-training evaluation: the router against the baselines on held-out items
(the same code path as ``audiorouter eval``: ``audiorouter.evaluation.evaluate``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from audiorouter.config import Config
from audiorouter.contracts import AudioQAItem
from audiorouter.evaluation import evaluate
from audiorouter.evaluation.report import EvaluationReport
from audiorouter.outcomes.base import OutcomeSource
from audiorouter.router.actions import ActionSpace
from audiorouter.router.policy import RouterPolicy

ORACLE_MAX_TOOLS = 2  # per_tool routers: the oracle searches subsets of up to this size


def oracle_subsets(actions: ActionSpace) -> list[tuple[str, ...]]:
    if actions.kind == "subsets":
        return list(actions.subsets)
    return [s for s in ActionSpace(actions.tools, "subsets", ORACLE_MAX_TOOLS).subsets]


def reasoner_label(config: Config) -> str:
    """Which reasoner produced a table's numbers: the reference program, or the model and
    how it answered (e.g. "cascade reasoner (qwen2.5-coder-1.5b, letter scoring)")."""
    reasoner = config.reasoner
    if reasoner.backend == "reference":
        return "reference reasoner"
    from audiorouter.reasoner.model_backend import resolve_answering

    answering = resolve_answering(reasoner)
    how = f"{answering.score_target} scoring" if answering.answer_mode == "score" else "generated answers"
    if answering.answer_mode == "score" and answering.calibration != "none":
        how += f", {answering.calibration.replace('_', '-')} calibration"
    return f"{reasoner.backend} reasoner ({reasoner.model}, {how})"


def evaluate_router(
    policy: RouterPolicy, items: Sequence[AudioQAItem], source: OutcomeSource, tools: Sequence[str],
    actions: ActionSpace, config: Config, out_dir: Path,
) -> EvaluationReport:
    """Every policy on ``items``; writes the report files into ``out_dir``."""
    settings = evaluate.EvalSettings(feature_cache_dir=config.router.feature_cache_dir or None, seed=config.train.seed)
    report, _ = evaluate.evaluate_router(policy, items, source, tools, oracle_subsets(actions),
                                         config.run.eval_split, reasoner_label(config), out_dir, settings)
    return report
