"""The end-of-training evaluation: the router against the baselines on held-out items."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from audiorouter.config import Config
from audiorouter.contracts import AudioQAItem
from audiorouter.evaluation.outcomes import build_outcome_table, candidate_subsets
from audiorouter.evaluation.plots import tool_usage
from audiorouter.evaluation.report import EvaluationReport, baseline_policies, policy_result
from audiorouter.rl.rewards import OutcomeRewardSource
from audiorouter.router.actions import ActionSpace
from audiorouter.router.features import FeatureSpec, featurize
from audiorouter.router.policy import RouterPolicy

ORACLE_MAX_TOOLS = 2  # per_tool routers: the oracle searches subsets of up to this size


def oracle_subsets(actions: ActionSpace) -> list[tuple[str, ...]]:
    if actions.kind == "subsets":
        return list(actions.subsets)
    return [s for s in ActionSpace(actions.tools, "subsets", ORACLE_MAX_TOOLS).subsets]


def reasoner_label(config: Config) -> str:
    backend = config.reasoner.backend
    return "reference reasoner" if backend == "reference" else f"{backend} reasoner ({config.reasoner.model})"


def evaluate_router(
    policy: RouterPolicy, items: Sequence[AudioQAItem], source: OutcomeRewardSource, tools: Sequence[str],
    actions: ActionSpace, feature_spec: FeatureSpec, config: Config, out_dir: Path,
) -> EvaluationReport:
    """Outcome table over every candidate subset, then one row per policy; writes
    ``report.txt`` and ``tool_usage.png`` into ``out_dir``."""
    features = featurize(list(items), feature_spec, config.router.feature_cache_dir or None)
    ids = [i.id for i in items]
    routed = [tuple(sorted(d.tools)) for d in policy.route(features.select(ids).matrix(), ids)]
    allowed = oracle_subsets(actions)
    table = build_outcome_table(source, ids, [i.task for i in items], candidate_subsets(tools, allowed + routed))
    policies = baseline_policies(table, tools, allowed)
    policies.insert(3, policy_result("trained router", table, routed, tools))
    report = EvaluationReport(config.run.eval_split, len(items), reasoner_label(config), policies)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.txt").write_text(report.render() + "\n")
    tool_usage([i.task for i in items], routed, tools, out_dir / "tool_usage.png")
    return report
