"""The training driver: build, train for N iterations, evaluate, save.

    report = TrainingRun(load_config("configs/quickstart.yaml")).run()

One method per phase. Everything a run writes is under ``run.out_dir/run.name``:
``state.json`` (iteration, MLflow run id), ``metrics.jsonl``, ``checkpoints/iter-N``,
``report.json`` and plots; the same files go to MLflow. ``resume=True`` continues
from the last checkpoint with the same iteration count and the same MLflow run.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path

from tqdm import tqdm

from audiorouter.cluster.session import start_ray
from audiorouter.config import Config, flatten
from audiorouter.data.items import iter_items, split_files
from audiorouter.data.selection import pick_training_items
from audiorouter.data.synth import synthesize_dataset
from audiorouter.data.synth.staleness import stale_suite_reason
from audiorouter.evaluation.evaluate import (
    OUTPUT_FILES,
    EvalSettings,
    evaluate_router,
    oracle_subsets,
    reasoner_label,
)
from audiorouter.evaluation.plots import learning_curve
from audiorouter.evaluation.report import EvaluationReport
from audiorouter.outcomes.pipeline import PipelineOutcomeSource, PipelineSourceSpec, host_configured_reasoner
from audiorouter.outcomes.state_check import check_shared_state
from audiorouter.reasoner.registry import check_backend
from audiorouter.rl.registry import check_train, get_router_backend
from audiorouter.rl.rewards import OutcomeRewardSource, ToolCost
from audiorouter.router.actions import ActionSpace
from audiorouter.router.lm_policy import check_lm_router
from audiorouter.router.loading import prompted_lines
from audiorouter.run_lock import RunFolderLock
from audiorouter.state_files import StateFileError, read_json_file
from audiorouter.tool_execution.item_evidence import mean_latency_s, prepare_evidence
from audiorouter.tools import load_tool_plugins, resolve_tools
from audiorouter.tracking.mlflow_tracker import Tracker

log = logging.getLogger(__name__)


class TrainingRun:
    def __init__(self, config: Config, resume: bool = False, shared_state_checked: bool = False) -> None:
        check_backend(config.reasoner)  # the registries' names, before any work starts
        check_train(config.train, config.router)
        self.backend = get_router_backend(config.router.backend)
        self.config = config
        self.resume = resume
        self.shared_state_checked = shared_state_checked  # the caller ran check_shared_state already
        self.dir = Path(config.run.out_dir) / config.run.name
        self.state_path = self.dir / "state.json"
        self.history: list[dict] = []

    def run(self) -> EvaluationReport:
        with RunFolderLock(self.dir, "train"):  # one process at a time in run.out_dir/run.name
            return self._run()

    def _run(self) -> EvaluationReport:
        self.build()
        try:
            self.train()
            report = self.evaluate()
            self.save(report)
        except BaseException:
            self.tracker.finish("KILLED")
            raise
        finally:
            self.trainer.stop()
            if self.hosted is not None:
                self.hosted.stop()
        return report

    # ------------------------------------------------------------------ phases

    def build(self) -> None:
        cfg = self.config
        if not self.shared_state_checked:
            check_shared_state(cfg)  # a damaged memo, cache or MLflow store: one clear error, now
        state = self.resume_state()
        load_tool_plugins(cfg.tools.plugins)
        self.tools = resolve_tools(cfg.tools.enabled or None)
        if cfg.router.backend == "lm" or cfg.run.prompted_router:  # its LM missing, too many subsets: refused now
            check_lm_router(cfg.router, ActionSpace(tuple(self.tools), cfg.router.action_space,
                                                    cfg.router.max_tools_per_call))
        self.ensure_dataset()
        start_ray()
        self.train_items = pick_training_items(list(iter_items(cfg.data.dir, "train")), cfg.train.train_size,
                                               cfg.train.seed)
        self.eval_items = list(iter_items(cfg.data.dir, cfg.run.eval_split))[: cfg.run.eval_limit or None]
        latency = {t: 0.01 for t in self.tools}
        self.disabled_tools: dict[str, str] = {}
        if cfg.run.prepare_tools:
            evidence = prepare_evidence(cfg.tools, self.train_items + self.eval_items, self.tools, cfg.data.dir)
            latency, self.disabled_tools = mean_latency_s(evidence.results), evidence.disabled
            self.drop_disabled_tools()
        self.hosted = host_configured_reasoner(cfg)  # named actors live while a handle does: the driver keeps it
        self.cost = ToolCost(cfg.train.tool_cost_weight, latency)
        outcomes = self.outcome_source([i.id for i in self.train_items], ("train",))
        source = OutcomeRewardSource(outcomes, cfg.train.reward, self.cost)
        self.trainer = self.backend.build(cfg.train, cfg.router, self.tools, self.train_items, source,
                                          cfg.router.feature_cache_dir or None)
        self.tracker = Tracker(cfg.tracking, cfg.run.name, state.get("mlflow_run_id"))
        if state.get("checkpoint"):
            try:
                self.trainer.restore(state["checkpoint"])
            except Exception as exc:  # RLlib's or torch's own error for a damaged file inside the checkpoint
                raise StateFileError("checkpoint", state["checkpoint"], f"the trainer cannot restore it ({type(exc).__name__}: "
                                     f"{exc})", "Resume from an earlier checkpoint (edit state.json) or start "
                                     "the run afresh without --resume") from exc
            self.history = [h for h in self.metrics_history() if h["iteration"] <= self.trainer.iteration]
            self.tracker.forget_steps_after(self.trainer.iteration)  # they are logged again from here
            (self.dir / "metrics.jsonl").write_text("".join(json.dumps(h) + "\n" for h in self.history))
            log.info("resumed %s at iteration %d", self.dir, self.trainer.iteration)
        else:
            if self.resume:
                log.warning("nothing to resume under %s; starting afresh", self.dir)
            (self.dir / "metrics.jsonl").unlink(missing_ok=True)  # a fresh run's curve starts empty
        self.tracker.log_params(flatten(cfg) | {"train.unique_items": len(self.train_items),
                                                "tools.disabled": json.dumps(self.disabled_tools)})

    def train(self) -> None:
        total = self.config.train.iterations
        bar = tqdm(total=total, initial=self.trainer.iteration, desc="train", unit="iter")
        while self.trainer.iteration < total:
            metrics = self.trainer.train_iteration()
            self.record(asdict(metrics))
            bar.update(1)
            bar.set_postfix(reward=f"{metrics.mean_reward:.3f}", acc=f"{metrics.accuracy:.2f}",
                            tools=f"{metrics.mean_tools:.2f}")
            if metrics.iteration % self.config.run.checkpoint_every == 0 or metrics.iteration == total:
                self.checkpoint()
        bar.close()

    def evaluate(self) -> EvaluationReport:
        cfg = self.config
        source = self.outcome_source([i.id for i in self.eval_items], (cfg.run.eval_split,))
        settings = EvalSettings(feature_cache_dir=cfg.router.feature_cache_dir or None, seed=cfg.train.seed)
        policy = self.trainer.policy()
        lines = prompted_lines(cfg.router, policy) if cfg.run.prompted_router else {}
        report, _ = evaluate_router(policy, self.eval_items, source, self.tools, oracle_subsets(self.trainer.actions),
                                    cfg.run.eval_split, reasoner_label(cfg.reasoner), self.dir, settings, lines)
        return report

    def save(self, report: EvaluationReport) -> None:
        learning_curve(self.history, self.dir / "learning_curve.png")
        for name in (*OUTPUT_FILES, "learning_curve.png", "metrics.jsonl"):
            if (self.dir / name).exists():
                self.tracker.log_artifact(self.dir / name)
        self.tracker.log_metrics(report.metrics(), step=self.trainer.iteration)
        self.tracker.finish()

    # ------------------------------------------------------------------ helpers

    def resume_state(self) -> dict:
        """``state.json`` when resuming (empty otherwise), its checkpoint checked to be there."""
        if not (self.resume and self.state_path.exists()):
            return {}
        remedy = (f"Resume needs it whole: restore it, or start the run afresh (without --resume, or "
                  f"--set run.name=...); the checkpoints are under {self.dir / 'checkpoints'}")
        state = read_json_file(self.state_path, "run state", remedy)
        if not isinstance(state, dict) or not isinstance(state.get("iteration", 0), int):
            raise StateFileError("run state", self.state_path, "it is not a run's state object", remedy)
        checkpoint = state.get("checkpoint")
        if checkpoint is not None:
            missing = [name for name in self.backend.checkpoint_files if not (Path(checkpoint) / name).exists()]
            if missing:
                raise StateFileError("checkpoint", checkpoint, f"it lacks {', '.join(missing)}", remedy)
            read_json_file(Path(checkpoint) / "trainer.json", "checkpoint's trainer.json", remedy)
        return state

    def metrics_history(self) -> list[dict]:
        """``metrics.jsonl`` of the run being resumed; a torn last line (a kill mid-write) is dropped."""
        path = self.dir / "metrics.jsonl"
        lines = path.read_text().splitlines() if path.exists() else []
        history = []
        for number, line in enumerate(lines, 1):
            try:
                history.append(json.loads(line))
            except json.JSONDecodeError as exc:
                if number < len(lines):
                    raise StateFileError("metrics history", path, f"line {number} is not JSON ({exc.msg})",
                                         "Restore it, or start the run afresh without --resume") from exc
                log.warning("dropping the torn last line of %s", path)
        return history

    def ensure_dataset(self) -> None:
        data = self.config.data
        if not split_files(data.dir, "train"):
            log.info("no dataset under %s: generating the built-in suite", data.dir)
            synthesize_dataset(data.synth, data.dir)
        elif reason := stale_suite_reason(data.dir, "train"):
            raise ValueError(reason)

    def drop_disabled_tools(self) -> None:
        """A tool that kept crashing while the cache was filled is not a router action."""
        if self.disabled_tools:
            log.warning("training without the disabled tools: %s", json.dumps(self.disabled_tools))
            self.tools = [t for t in self.tools if t not in self.disabled_tools]
            if not self.tools:
                raise RuntimeError(f"every tool was disabled after crashing: {self.disabled_tools}")

    def outcome_source(self, item_ids: list[str], splits: tuple[str, ...]) -> PipelineOutcomeSource:
        cfg = self.config
        return PipelineOutcomeSource(PipelineSourceSpec.from_config(cfg, cfg.data.dir, splits, item_ids,
                                                                    self.disabled_tools))

    def record(self, metrics: dict) -> None:
        flat = {k: v for k, v in metrics.items() if isinstance(v, (int, float))}
        flat |= {f"tool_call_rate/{t}": r for t, r in metrics["tool_call_rate"].items()}
        flat |= {f"source/{k}": v for k, v in metrics["source_stats"].items()}
        flat |= {f"learner/{k}": v for k, v in metrics["learner"].items()}
        self.tracker.log_metrics(flat, step=metrics["iteration"])
        self.history.append(metrics)
        self.dir.mkdir(parents=True, exist_ok=True)
        with (self.dir / "metrics.jsonl").open("a") as handle:
            handle.write(json.dumps(metrics) + "\n")

    def checkpoint(self) -> None:
        path = self.trainer.save(self.dir / "checkpoints" / f"iter-{self.trainer.iteration}")
        state = {"iteration": self.trainer.iteration, "checkpoint": str(path), "mlflow_run_id": self.tracker.run_id}
        self.state_path.write_text(json.dumps(state))
        self.tracker.log_artifact(path / "policy", f"checkpoints/iter-{self.trainer.iteration}")

