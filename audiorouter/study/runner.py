"""The scaling study's driver: build what every trial shares, sweep, analyse, report.

    run = StudyRun(load_config("configs/study.yaml"))
    analysis = run.run()          # writes <run.out_dir>/<study.name>/study.{json,md}, plots

Each run is one piece of the study; what it cost goes into ``pieces.jsonl`` (study.pieces)
and the report's last section. One method per phase: ``prepare`` (items, tool pass,
router features, reasoner actors, the reasoner's own scores, internalisation features), ``constant_lines`` (no tools,
all tools, best single tool, oracle routing from one outcome table), ``sweep`` (Ray
Tune), ``collect``, ``report`` (analysis, outputs, MLflow parent run with one child per
trial). Rerunning the command continues an interrupted study: the tool cache, the
outcome memo and the feature caches make the preparation cheap, and finished trials
are never trained again.

Also here, for the driver alone: ``with_absolute_paths`` (Ray Tune runs each trial with
its working directory set to the trial's own folder, so a relative path in the config
would name a different, missing file inside a trial: the driver resolves every path
the trials read against its own working directory once) and ``provenance`` (what the
study's numbers depend on: config, seeds, items, code and package versions).

Imports: cluster, config, evaluation, rl, router, store, reasoner, tools, outcomes,
the harness modules beside it, study.methods.head_inputs.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import subprocess
from importlib import metadata
from pathlib import Path

from audiorouter.cluster.session import start_ray
from audiorouter.config import Config, ReasonerConfig
from audiorouter.evaluation.evaluate import reasoner_label
from audiorouter.evaluation.report import baseline_choices
from audiorouter.features import featurize
from audiorouter.outcomes.pipeline import host_configured_reasoner
from audiorouter.outcomes.state_check import check_shared_state
from audiorouter.outcomes.table import OutcomeTable, Subset, build_outcome_table, candidate_subsets
from audiorouter.reasoner.registry import check_backend
from audiorouter.rl.registry import check_train
from audiorouter.router.actions import ActionSpace
from audiorouter.router.lm_policy import check_lm_router
from audiorouter.run_lock import RunFolderLock
from audiorouter.store import open_outcome_memo, seed_outcome_memo, seed_tool_cache
from audiorouter.study.analysis import analyse
from audiorouter.study.context import StudyContext, save_router_features
from audiorouter.study.dataset import StudyData, ensure_study_data, load_items
from audiorouter.study.kept_results import RESULT_FILE, kept_dataset_record, restore_kept_results
from audiorouter.study.methods import check_study, data_sizes, get_method, max_tool_training_size
from audiorouter.study.methods.head_inputs import prepare_internalisation
from audiorouter.study.methods.tool_features import save_tool_fields
from audiorouter.study.pieces import PieceLedger, read_pieces, render_pieces
from audiorouter.study.report import write_study_outputs
from audiorouter.study.results import PROMPTED_METHOD, TrialResult, prompted_line
from audiorouter.study.sweep import run_sweep
from audiorouter.study.tracking import log_study
from audiorouter.study.trials import finished_result, trial_specs
from audiorouter.tool_execution.item_evidence import mean_latency_s, prepare_evidence
from audiorouter.tools import load_tool_plugins, resolve_tools

log = logging.getLogger(__name__)

# (section, field) of every path a trial may open; "" means "disabled" and stays ""
PATH_FIELDS = (("data", "dir"), ("tools", "cache_dir"), ("tools", "cache_seeds"), ("reasoner", "memo_path"),
               ("reasoner", "memo_seeds"),
               ("router", "feature_cache_dir"),
               ("tracking", "artifact_dir"), ("run", "out_dir"), ("study", "data_dir"), ("study", "keep_dir"))
PACKAGES = ("audiorouter", "ray", "torch", "torchaudio", "transformers", "numpy", "scikit-learn", "mlflow",
            "onnxruntime", "sentence-transformers", "librosa")


class StudyIncomplete(RuntimeError):
    """The sweep stopped (interrupted, or trials failed) before the report had enough
    trials to analyse; rerunning the study continues it."""

    piece_status = "incomplete"  # how the cost ledger records the piece


class StudyRun:
    def __init__(self, config: Config) -> None:
        check_backend(config.reasoner)  # the registries' names, before any work starts
        check_train(config.train)
        check_study(config)
        self.config = with_absolute_paths(config)  # trials run in their own folders
        self.dir = Path(self.config.run.out_dir) / self.config.study.name
        self.counts: dict[str, int] = {}
        self.ledger: PieceLedger | None = None  # set by run()

    def run(self):
        # one process at a time in the study folder; every run is one piece of the study: its
        # cost goes into the ledger (study/pieces.py)
        with (RunFolderLock(self.dir, "study"),
              PieceLedger(self.ledger_dir(), git_commit(), self.answers_so_far, self.trials_so_far) as self.ledger):
            with self.ledger.phase("prepare"):
                self.prepare()
            with self.ledger.phase("constant lines"):
                constants = self.constant_lines()
            with self.ledger.phase("sweep"):
                self.sweep()
            with self.ledger.phase("report"):
                results, failed = self.collect()
                if (prompted := prompted_line(results)) is not None:  # router-lm's untrained point
                    constants.append(prompted)
                self.ledger.note(missing_trials=len(failed))
                return self.report(constants + results, failed)

    # ------------------------------------------------------------------ phases

    def prepare(self) -> None:
        cfg, study = self.config, self.config.study
        check_shared_state(cfg)  # a damaged memo, cache or MLflow store: one clear error, now
        self.counts["memo_rows_seeded"] = seed_outcome_memo(cfg.reasoner)  # outcomes kept in the repository
        self.counts["tool_results_seeded"] = seed_tool_cache(cfg.tools)  # and tool results
        self.dir.mkdir(parents=True, exist_ok=True)
        # items made afresh follow the kept results' record: the same items on every machine
        recorded = kept_dataset_record(study.keep_dir).get("manifest") if study.keep_dir else None
        self.data = ensure_study_data(study, cfg.data.synth.workers, recorded=recorded, **data_sizes(study))
        if self.ledger:
            self.ledger.set_dataset(self.data.lineage)
        if study.keep_dir:  # finished trials of earlier machines
            self.counts["trial_results_restored"] = restore_kept_results(study.keep_dir, self.dir,
                                                                         self.data.lineage, self.data.manifest)
        start_ray()
        self.counts["memo_rows_before"] = memo_rows(cfg.reasoner)
        load_tool_plugins(cfg.tools.plugins)
        tools = resolve_tools(cfg.tools.enabled or None)
        if PROMPTED_METHOD in study.methods:  # every decision scores each subset: too many is a config error
            check_lm_router(cfg.router, ActionSpace(tuple(tools), cfg.router.action_space, cfg.router.max_tools_per_call))
        # the training items of every method that reads tool outputs of them (routers: their pools)
        training_ids = sorted({*self.data.training_union(max_tool_training_size(study, pool=True), pool=True),
                               *self.data.training_union(max_tool_training_size(study, pool=False))})
        # tools-supervised reads tool outputs of its validation items too
        validation_ids = self.data.validation_ids if any(get_method(m).tool_fields for m in study.methods) else []
        scored_ids = [i for ids in self.data.eval_splits.values() for i in ids]  # test and OOD splits
        evidence_items = load_items(self.data.data_dir,
                                    tuple(dict.fromkeys((*self.data.training_splits, *self.data.pool_splits,
                                                         "validation", *self.data.eval_splits))),
                                    training_ids + validation_ids + scored_ids)
        latency, disabled = self.tool_pass(evidence_items, tools)
        tools = [t for t in tools if t not in disabled]
        self.context = StudyContext(cfg, self.data, tools, str(self.dir), latency, disabled)
        self.router_features(evidence_items)
        del evidence_items
        self.hosted = host_configured_reasoner(cfg)  # the driver keeps the actors (or the Serve app) alive
        self.specs = trial_specs(study)
        self.todo = [s for s in self.specs if finished_result(s, self.context) is None]
        # the heads' inputs (features of every training item: a quarter of an hour at 32,768)
        # only when a head trial is left to train
        if any(get_method(s.method).head_inputs for s in self.todo):
            prepare_internalisation(self.context)
        (self.dir / "provenance.json").write_text(json.dumps(provenance(cfg, self.data), indent=1))

    def constant_lines(self) -> list[TrialResult]:
        """No tools, all tools, the best single tool and oracle routing, on the test split
        and on each out-of-distribution split (in ``ood``)."""
        oracle_on = {split: split == "test" or self.config.study.ood_oracle for split in self.data.eval_splits}
        per_split = {split: self.constant_lines_on(split, ids, oracle_on[split])
                     for split, ids in self.data.eval_splits.items()}
        results = []
        for name, (correct, info) in per_split["test"].items():
            ood = {split: {"item_ids": list(ids), "tasks": [self.data.tasks[i] for i in ids],
                           "correct": [bool(c) for c in per_split[split][name][0]]}
                   for split, ids in self.data.eval_splits.items() if split != "test" and name in per_split[split]}
            results.append(TrialResult(name, 0, 0, list(self.data.test_ids), [self.data.tasks[i] for i in
                                                                                self.data.test_ids],
                                       [bool(c) for c in correct], 0.0, info, ood))
        return results

    def constant_lines_on(self, split: str, ids: list[str], oracle: bool = True) -> dict[str, tuple]:
        """name -> (correct per item, info) of each constant line on one split (oracle
        routing only when ``oracle``: it asks for every allowed subset of every item)."""
        ctx = self.context
        actions = ActionSpace(tuple(ctx.tools), self.config.router.action_space, self.config.router.max_tools_per_call)
        source = ctx.outcome_source(ids, (split,))
        table = build_outcome_table(source, ids, [self.data.tasks[i] for i in ids],
                                    candidate_subsets(ctx.tools, list(actions.subsets) if oracle else []))
        return constant_lines_of(table, ctx.tools, list(actions.subsets) if oracle else None, split)

    def sweep(self):
        """Every trial without a result, through Tune; Tune's ResultGrid (None when every
        trial has one). Finished trials stay out of the grid: Tune would start, report and
        checkpoint each again (about 12 s a trial on 2 cores) only to read its result."""
        todo = self.todo  # read in prepare: the trials without a result
        log.info("study %s: %d trials (%s), %d of them finished before", self.config.study.name, len(self.specs),
                 ", ".join(sorted({s.method for s in self.specs})), len(self.specs) - len(todo))
        return run_sweep(todo, self.context, self.specs) if todo else None

    def collect(self) -> tuple[list[TrialResult], list[str]]:
        results, failed = [], []
        for spec in self.specs:
            result = finished_result(spec, self.context)
            (results.append(result) if result is not None else failed.append(spec.key))
        if failed:
            log.warning("%d trials have no result (see Tune's error files under %s/tune): %s", len(failed),
                        self.dir, ", ".join(failed[:5]))
        return results, failed

    def report(self, results: list[TrialResult], failed: list[str]):
        study = self.config.study
        try:
            analyses = {split: analyse([r.on_split(split) for r in results if split == "test" or split in r.ood],
                                       reasoner_label(self.config.reasoner),
                                       study.reference_method, study.targets, study.plateau_fraction,
                                       study.resamples, seed=0, gap_fractions=study.gap_fractions, split=split,
                                       seed_pools=study.seed_pools)
                        for split in self.data.eval_splits}
        except ValueError as err:
            if not failed:
                raise
            raise StudyIncomplete(f"{len(failed)} of {len(self.specs)} trials have no result yet, too few for "
                                  f"a report ({err}). Run the study again to continue: finished trials are kept "
                                  "and not trained again") from err
        sharing = self.sharing_counts(results)
        # the test split's outputs in the study folder, each out-of-distribution split's in a folder of its own
        cost = render_pieces(read_pieces(self.ledger_dir()), self.data.lineage,
                             self.ledger.record["piece"] if self.ledger else None)
        outputs = [path for split, analysis in analyses.items()
                   for path in write_study_outputs(analysis, self.dir if split == "test" else self.dir / split,
                                                   cost if split == "test" else ())]
        extra = {"failed_trials": failed, "sharing": sharing}
        (self.dir / "study_run.json").write_text(json.dumps(extra, indent=1))
        log_study(self.config, self.dir, results, outputs + [self.dir / "study_run.json", self.dir / "provenance.json"])
        return analyses["test"]

    # ------------------------------------------------------------------ helpers

    def ledger_dir(self) -> Path:
        """Where the pieces' ledger lives: beside the kept results, else in the run folder."""
        return Path(self.config.study.keep_dir) if self.config.study.keep_dir else self.dir

    def answers_so_far(self) -> int | None:
        """Model answers in the memo, less the rows imported from shards (None with a memo
        service: the driver does not count its rows)."""
        if self.config.reasoner.memo_store != "sqlite":
            return None
        return memo_rows(self.config.reasoner) - self.counts.get("memo_rows_seeded", 0)

    def trials_so_far(self) -> int:
        """Finished trials in the run folder, less those restored from the kept folder."""
        finished = sum(1 for _ in (self.dir / "trials").glob(f"*/*/{RESULT_FILE}"))
        return finished - self.counts.get("trial_results_restored", 0)

    def tool_pass(self, items, tools: list[str]) -> tuple[dict[str, float], dict[str, str]]:
        evidence = prepare_evidence(self.config.tools, items, tools, self.data.data_dir)
        self.counts |= {"tool_runs_requested_by_pass": evidence.requested, "tool_runs_made_by_pass": evidence.computed}
        if any(get_method(m).tool_fields for m in self.config.study.methods):
            save_tool_fields([item.id for item in items], evidence.results, tools, self.dir)
        return mean_latency_s(evidence.results), evidence.disabled

    def router_features(self, items) -> None:
        features = featurize(items, self.context.feature_spec, self.config.router.feature_cache_dir or None)
        save_router_features(features, self.dir)

    def sharing_counts(self, results: list[TrialResult]) -> dict[str, int]:
        """Reasoner and tool work the trials asked for against what was done."""
        counts = dict(self.counts)
        sources = [value for r in results for key, value in r.info.items()
                   if key == "source" or key.endswith("_source")]  # training, test and OOD splits
        counts["reasoner_requests_by_trials"] = int(sum(s.get("reasoner_requests", 0) for s in sources))
        counts["pairs_asked_by_trials"] = int(sum(s.get("pairs", 0) for s in sources))
        counts["tool_results_read_by_trials"] = int(sum(s.get("tool_cache_hits", 0) + s.get("tool_cache_misses", 0)
                                                        for s in sources))
        counts["tool_runs_made_by_trials"] = int(sum(s.get("tool_cache_misses", 0) for s in sources))
        stats = self.hosted.stats() if self.hosted is not None else None
        if stats is not None:  # hosted on actors (under Serve, the memo rows count the model's answers)
            counts["reasoner_requests_received"] = stats["requested"]
            counts["reasoner_answers_computed"] = stats["answered_by_model"]
        counts["memo_rows_after"] = memo_rows(self.config.reasoner)
        return counts


def constant_lines_of(table: OutcomeTable, tools: list[str], oracle_subsets: list[Subset] | None,
                      split: str) -> dict[str, tuple]:
    """name -> (correct per item, info) of the evaluation's baselines (``baseline_choices``:
    its choices and its tie-break) on one split's table, under the study's method names
    ("no tools" -> "no-tools", as its reports and kept results spell them)."""
    lines = {}
    for name, (chosen, note) in baseline_choices(table, tools, oracle_subsets).items():
        info = {"mean_tools": sum(map(len, chosen)) / max(len(chosen), 1)}
        if name == "best single tool":
            info |= {"tool": note, "chosen_on": f"the {split} split (an upper bound)"}
        elif name == "oracle routing":
            info["subsets"] = len(oracle_subsets)
        lines[name.replace(" ", "-")] = (table.correct_for(chosen), info)
    return lines


def memo_rows(reasoner: ReasonerConfig) -> int:
    """Outcomes in the memo (0 without one): every answer the model computes adds one
    row, unless the same (reasoner, item, evidence) was computed before."""
    path = reasoner.memo_path
    if not path or (reasoner.memo_store == "sqlite" and not Path(path).exists()):
        return 0
    memo = open_outcome_memo(reasoner)
    try:
        return len(memo)
    finally:
        memo.close()


# ------------------------------------------------------------------ paths


def absolute(path: str, base: Path) -> str:
    return path if not path or Path(path).is_absolute() else str(base / path)


def with_absolute_paths(config: Config, base: str | Path | None = None) -> Config:
    """A copy of ``config`` whose file paths are absolute (relative ones taken from ``base``,
    the working directory by default); a tracking URI that is a plain path too, and a
    reasoner model given as an existing relative path."""
    root = Path(base or Path.cwd()).resolve()
    sections = {}
    for section, name in PATH_FIELDS:
        part = sections.get(section, getattr(config, section))
        sections[section] = dataclasses.replace(part, **{name: absolute(getattr(part, name), root)})
    tracking = sections["tracking"]
    if "://" not in tracking.tracking_uri:
        sections["tracking"] = dataclasses.replace(tracking, tracking_uri=absolute(tracking.tracking_uri, root))
    reasoner = sections["reasoner"]
    if reasoner.model and (root / reasoner.model).exists():
        sections["reasoner"] = dataclasses.replace(reasoner, model=absolute(reasoner.model, root))
    return dataclasses.replace(config, **sections)


# ------------------------------------------------------------------ provenance


def git_commit(folder: Path | None = None) -> str:
    """The checkout's commit, with "-dirty" when files differ from it; "unknown" outside git."""
    folder = folder or Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=folder,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def provenance(config: Config, data: StudyData) -> dict:
    return {"config": dataclasses.asdict(config), "seeds": list(range(config.study.seeds)),
            "dataset": {"dir": str(data.data_dir), "lineage": data.lineage, "families": data.families,
                        "training_items": len(data.orders[0]), "validation_items": len(data.validation_ids),
                        "test_items": len(data.test_ids), "router_pool": data.router_pool},
            "git_commit": git_commit(), "packages": package_versions()}
