"""A small study end to end, through the CLI as users run it: four methods (router-ppo,
supervised-router, internalise-pretrained, tools-supervised), two sizes, two seeds, the constant lines, on
two task families with two tools and the reference reasoner.

Run 1 is interrupted (SIGINT, as Ctrl-C) after its first finished trial; run 2 restores
the Tune experiment and finishes without retraining what run 1 finished; run 3 reruns
the finished study and prints the same report. Every answer the reasoner computed must
have added a new memo row: no (item, evidence) pair reached the model twice.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from audiorouter.config import load_config
from audiorouter.data.synth.voices import voices_unavailable_reason
from audiorouter.study.dataset import ensure_study_data
from audiorouter.study.methods.catalog import data_sizes
from audiorouter.study.methods.head_inputs import FEATURES_FILE
from audiorouter.study.pieces import read_pieces
from audiorouter.study.runner import with_absolute_paths

pytestmark = pytest.mark.slow

# table-router and lookup-router read the same outcome tables as supervised-router, which
# stands for them here (their own tests: tests/study/methods); fewer trials keep the three
# runs of this module within a few minutes
METHODS = ["router-ppo", "supervised-router", "internalise-pretrained", "tools-supervised"]
TRIALS = 4 * 3 * 2  # every method x (untrained, 2 sizes) x 2 seeds


def study_config(root: Path) -> Path:
    """Paths relative to ``root``, the commands' working directory, as users write them
    (Tune runs each trial in its own folder: the driver must resolve them)."""
    config = {
        "data": {"synth": {"workers": 1}},
        "tools": {"enabled": ["tempo", "loudness"], "cache_dir": "tool_cache", "num_actors": 1},
        "reasoner": {"backend": "reference", "memo_path": "memo.sqlite", "actor_num_cpus": 0.25},
        "router": {"feature_cache_dir": "features"},
        "train": {"train_batch_size": 32, "num_envs_per_env_runner": 16, "minibatch_size": 32, "num_epochs": 2},
        "run": {"out_dir": "runs"},
        "study": {"name": "tiny", "data_dir": "data", "families": ["tempo", "loudness_compare"],
                  "methods": METHODS, "router_sizes": [4, 8], "internalise_sizes": [4, 8], "seeds": 2,
                  "test_per_family": 4, "validation_per_family": 3, "ood_per_family": 2, "ood_oracle": False, "episodes_per_item": 8, "seed_pools": True,
                  "min_iterations": 1, "trial_cpus": 0.5, "resamples": 50, "keep_dir": "kept"},
        "tracking": {"tracking_uri": "mlflow.db", "artifact_dir": "mlartifacts"},
    }
    path = root / "study.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


COST_SECTION = "## What the study cost, piece by piece"


def study_command(config: Path) -> list[str]:
    return [sys.executable, "-m", "audiorouter.cli.main", "--config", str(config), "study"]


def results(study_dir: Path) -> dict[str, int]:
    """result.json files of finished trials -> their mtime (ns)."""
    return {str(p.relative_to(study_dir)): p.stat().st_mtime_ns for p in (study_dir / "trials").rglob("result.json")}


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("study")
    config = study_config(root)
    study_dir = root / "runs" / "tiny"
    env = os.environ | {"HF_HUB_OFFLINE": "1", "RAY_AUTH_MODE": "disabled"}
    env.pop("RAY_ADDRESS", None)
    first = subprocess.Popen(study_command(config), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, start_new_session=True, cwd=root)
    deadline = time.monotonic() + 900
    while not (study_dir / "trials").exists() or not results(study_dir):
        assert first.poll() is None, f"run 1 ended before any trial finished:\n{first.stdout.read()[-4000:]}"
        assert time.monotonic() < deadline, "no trial finished within 15 minutes"
        time.sleep(1)
    os.killpg(first.pid, signal.SIGINT)
    first_log, _ = first.communicate(timeout=300)
    finished_before = results(study_dir)
    second = subprocess.run(study_command(config), env=env, capture_output=True, text=True, timeout=1200, cwd=root)
    assert second.returncode == 0, second.stdout[-4000:] + second.stderr[-4000:]
    sharing_second = json.loads((study_dir / "study_run.json").read_text())["sharing"]
    report_second = (study_dir / "study.md").read_text()
    kept_before = results(root / "kept")
    # the third run as on another machine: a new run folder, the kept results (and the memo) only
    third = subprocess.run(study_command(config) + ["--set", "run.out_dir=elsewhere"], env=env, capture_output=True,
                           text=True, timeout=1200, cwd=root)
    assert third.returncode == 0, third.stdout[-4000:] + third.stderr[-4000:]
    return {"root": root, "config": config, "dir": study_dir, "first_log": first_log, "second": second,
            "third": third, "finished_before": finished_before, "sharing_second": sharing_second,
            "report_second": report_second, "moved_dir": root / "elsewhere" / "tiny", "kept_before": kept_before}


def test_interrupted_sweep_resumes_without_retraining(study):
    assert 0 < len(study["finished_before"]) < TRIALS, study["first_log"][-3000:]
    assert "restoring the sweep" in study["second"].stdout + study["second"].stderr
    after = results(study["dir"])
    assert len(after) == TRIALS
    for path, mtime in study["finished_before"].items():
        assert after[path] == mtime, f"{path} was trained again"


def test_report_has_every_method_and_constant_line(study):
    report = json.loads((study["dir"] / "study.json").read_text())
    assert report["reasoner"] == "reference reasoner"
    assert {c["method"] for c in report["curves"]} == set(METHODS)
    for curve in report["curves"]:
        assert [p["train_size"] for p in curve["points"]] == [4, 8]
        assert curve["untrained"]["seeds"] == [0, 1]
        assert all(len(p["seeds"]) == 2 for p in curve["points"])
    assert {c["method"] for c in report["constants"]} == {"no-tools", "all-tools", "best-single-tool",
                                                          "oracle-routing"}
    assert {f["family"] for f in report["families"]} == {"tempo", "loudness_compare"}
    for name in ("study.md", "curves.png", "per_family.png", "provenance.json"):
        assert (study["dir"] / name).stat().st_size > 0
    provenance = json.loads((study["dir"] / "provenance.json").read_text())
    assert provenance["dataset"]["lineage"] and provenance["seeds"] == [0, 1]
    fit = json.loads((study["dir"] / "trials" / "tools-supervised" / "n8-seed0" / "fit.json").read_text())
    assert fit["kind"] == "tools" and fit["train_items"] == 8 and fit["val_items"] == 6


def test_every_trial_is_scored_on_the_reworded_split_and_reported_apart(study):
    trial = json.loads((study["dir"] / "trials" / "router-ppo" / "n8-seed1" / "result.json").read_text())
    reworded = trial["ood"]["reworded"]
    assert len(reworded["item_ids"]) == len(reworded["correct"]) == 4  # 2 per family
    assert all(i.endswith("-rw") for i in reworded["item_ids"]) and not set(reworded["item_ids"]) & set(trial["item_ids"])
    report = json.loads((study["dir"] / "reworded" / "study.json").read_text())
    assert report["split"] == "reworded" and report["items"] == 4
    assert {c["method"] for c in report["curves"]} == set(METHODS)
    # study.ood_oracle false: no oracle line there, so no gap targets, the plateau target only
    assert {c["method"] for c in report["constants"]} == {"no-tools", "all-tools", "best-single-tool"}
    assert [t["kind"] for t in report["targets"]] == ["plateau"]
    text = (study["dir"] / "reworded" / "study.md").read_text()
    assert text.startswith("# Scaling study (reference reasoner, reworded split)")
    assert (study["dir"] / "reworded" / "curves.png").stat().st_size > 0


@pytest.mark.skipif(voices_unavailable_reason("soundfont") is not None,
                    reason=f"real instruments unavailable: {voices_unavailable_reason('soundfont')}")
def test_every_trial_is_scored_on_the_real_instruments_split_too(study):
    trial = json.loads((study["dir"] / "trials" / "internalise-pretrained" / "n8-seed0" / "result.json").read_text())
    played = trial["ood"]["instruments"]
    assert len(played["item_ids"]) == len(played["correct"]) == 4 and all(i.endswith("-gm") for i in played["item_ids"])
    report = json.loads((study["dir"] / "instruments" / "study.json").read_text())
    assert report["split"] == "instruments" and {c["method"] for c in report["curves"]} == set(METHODS)
    assert (study["dir"] / "instruments" / "study.md").read_text().startswith(
        "# Scaling study (reference reasoner, instruments split)")


def test_no_item_evidence_pair_reaches_the_reasoner_twice(study):
    for sharing in (study["sharing_second"], json.loads((study["moved_dir"] / "study_run.json").read_text())["sharing"]):
        assert sharing["reasoner_answers_computed"] == sharing["memo_rows_after"] - sharing["memo_rows_before"]
    third = json.loads((study["moved_dir"] / "study_run.json").read_text())["sharing"]
    assert third["reasoner_answers_computed"] == 0  # a finished study asks the model nothing
    assert third["tool_runs_made_by_pass"] == 0


def test_a_new_run_folder_restores_the_kept_results_and_trains_nothing(study):
    """study.keep_dir: every finished trial's result is kept; a run elsewhere (another
    machine's run folder) restores them all and trains no trial again."""
    assert len(study["kept_before"]) == TRIALS
    third = json.loads((study["moved_dir"] / "study_run.json").read_text())["sharing"]
    assert third["trial_results_restored"] == TRIALS
    assert results(study["root"] / "kept") == study["kept_before"]  # no trial ran, so none was kept anew
    assert not (study["moved_dir"] / FEATURES_FILE).exists()  # nor were the heads' inputs prepared
    assert (study["dir"] / FEATURES_FILE).exists()  # which the runs that trained heads did
    assert json.loads((study["root"] / "kept" / "dataset.json").read_text())["lineage"] == json.loads(
        (study["dir"] / "provenance.json").read_text())["dataset"]["lineage"]


def without_cost(report: str) -> str:
    return report.split(COST_SECTION)[0]


def test_rerunning_a_finished_study_prints_the_same_report(study):
    assert without_cost((study["moved_dir"] / "study.md").read_text()) == without_cost(study["report_second"])
    assert study["report_second"].splitlines()[0] in study["third"].stdout


def test_each_run_is_a_piece_in_the_cost_ledger_beside_the_kept_results(study):
    first, second, third = read_pieces(study["root"] / "kept")
    assert first["status"] in ("interrupted", "incomplete") or first["missing_trials"] > 0  # stopped in its sweep
    if first["status"] == "incomplete":  # too few trials for a report: one clear line
        assert "study incomplete: " in study["first_log"]
    assert second["status"] == third["status"] == "finished" and second["missing_trials"] == 0
    assert first["trials_finished"] + second["trials_finished"] == TRIALS
    assert third["trials_finished"] == 0 and third["model_answers"] == 0  # restored, nothing computed
    lineage = json.loads((study["dir"] / "provenance.json").read_text())["dataset"]["lineage"]
    assert all(r["dataset"] == lineage for r in (first, second, third))
    assert set(second["phases"]) == {"prepare", "constant lines", "sweep", "report"}
    cost = (study["moved_dir"] / "study.md").read_text().split(COST_SECTION)[1]
    assert "In all: 3 pieces" in cost and "this piece, until this report" in cost
    assert COST_SECTION not in (study["moved_dir"] / "reworded" / "study.md").read_text()


def test_training_sets_are_nested_per_seed(study):
    config = with_absolute_paths(load_config(study["config"]), study["root"])
    data = ensure_study_data(config.study, progress=False, **data_sizes(config.study))
    for seed in (0, 1):
        small, large = data.training_ids(4, seed), data.training_ids(8, seed)
        assert large[:4] == small and len(set(large)) == 8
        assert {data.tasks[i] for i in small} == {"tempo", "loudness_compare"}  # round-robin over families
    assert data.training_ids(8, 0) != data.training_ids(8, 1)
    assert not set(data.test_ids) & set(data.orders[0])


def test_every_trial_records_what_its_training_cost(study):
    """The calls axis: distinct (item, evidence) reasoner requests and tool results a
    trial's training caused. The table-trained routers ask every allowed subset of their
    items (2 tools, at most 2 per call: 4 subsets: supervised-router here); PPO asks at most that."""
    for path in (study["dir"] / "trials").rglob("result.json"):
        trial = json.loads(path.read_text())
        method, size, cost = trial["method"], trial["train_size"], trial["info"]["training_cost"]
        if method == "tools-supervised":  # both tools' results of its items and of the 6 validation items
            assert cost == {"reasoner_calls": 0, "tool_runs": 2 * (size + 6)}, path
        elif size == 0 or method == "internalise-pretrained":
            assert cost == {"reasoner_calls": 0, "tool_runs": 0}, path
        elif method == "router-ppo":  # each item without evidence, and what its episodes chose
            assert size <= cost["reasoner_calls"] <= 4 * size and cost["tool_runs"] <= 2 * size, path
        else:
            assert cost == {"reasoner_calls": 4 * size, "tool_runs": 2 * size}, path


def test_each_seed_trains_its_routers_in_a_pool_of_its_own(study):
    """study.seed_pools: the routers' training items come from the seed-pool split, disjoint
    across seeds, and every trial records what it trained on."""
    config = with_absolute_paths(load_config(study["config"]), study["root"])
    data = ensure_study_data(config.study, progress=False, **data_sizes(config.study))
    assert data.pool_splits == ("seed-pools-1",)
    assert not set(data.training_ids(8, 0, pool=True)) & set(data.training_ids(8, 1, pool=True))
    for path in (study["dir"] / "trials").rglob("result.json"):
        assert len(json.loads(path.read_text())["training_digest"]) == 16, path
