"""The three batch-inference stages on a tiny suite, as Ray Data jobs on one local Ray
session: each alone (with resume after an interruption: the last part deleted), and
chained through ``audiorouter infer``."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from audiorouter.cli.main import main
from audiorouter.config import ReasonerConfig, SynthConfig, ToolsConfig
from audiorouter.contracts import EVIDENCE_SCHEMA
from audiorouter.data.items import iter_items
from audiorouter.data.synth import synthesize_dataset
from audiorouter.features import FeatureSpec
from audiorouter.inference import (
    ANSWERS_SCHEMA,
    DECISIONS_SCHEMA,
    done_ids,
    read_answers,
    read_decisions,
    reason_stage,
    route_stage,
    tools_stage,
)
from audiorouter.inference.parts import part_files, write_part
from audiorouter.router.actions import ActionSpace
from audiorouter.router.policy import RouterNet, RouterPolicy
from audiorouter.tool_execution.item_evidence import read_evidence

TOOLS = ("loudness", "segments", "tempo")
SPLIT = "train"
CHUNK = 4


pytestmark = pytest.mark.usefixtures("ray_session")


@pytest.fixture(scope="module")
def suite(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("suite")
    synthesize_dataset(SynthConfig(n=18, seed=3, families=["tempo", "loudness_compare", "duration"], workers=1),
                       out, progress=False)
    return out


@pytest.fixture(scope="module")
def items(suite):
    found = list(iter_items(suite, SPLIT))
    assert len(found) > 2 * CHUNK  # at least three chunks
    return found


@pytest.fixture(scope="module")
def policy(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("router") / "policy"
    spec = FeatureSpec(n_mels=8)
    actions = ActionSpace(TOOLS, "subsets", 2)
    RouterPolicy(RouterNet(spec.dim, actions.num_logits, (8,)), actions, spec, (8,)).save(directory)
    return directory


def interrupt(folder: Path) -> set[str]:
    """Delete the last part, as if the stage had died writing it; the ids it held."""
    last = part_files(folder)[-1]
    lost = _ids_of(last)
    last.unlink()
    return lost


def _ids_of(path: Path) -> set[str]:
    return set(json.loads(pq.read_schema(path).metadata[b"audiorouter.item_ids"]))


def by_item(rows) -> dict[str, dict]:
    """Answers by item id, without the timing column."""
    return {r["item_id"]: {k: v for k, v in r.items() if k != "latency_ms"} for r in rows}


def hand_decisions(out: Path, items, tools_of) -> None:
    rows = [{"item_id": i.id, "tools": list(tools_of(k)), "log_prob": -1.0} for k, i in enumerate(items)]
    write_part(out / "decisions", rows, DECISIONS_SCHEMA, [i.id for i in items])


def test_route_stage_alone_and_resumes(tmp_path, suite, items, policy):
    def route(**extra):
        return route_stage(suite, SPLIT, tmp_path, policy, chunk_size=CHUNK, progress=False, **extra)

    first = route(feature_cache_dir=tmp_path / "features")
    assert (first.processed, first.skipped, first.parts) == (len(items), 0, -(-len(items) // CHUNK))
    before = read_decisions(tmp_path)
    assert set(before) == {i.id for i in items}
    assert all(set(d.tools) <= set(TOOLS) and d.log_prob <= 0 for d in before.values())
    lost = interrupt(tmp_path / "decisions")
    again = route(feature_cache_dir=tmp_path / "features")
    assert (again.processed, again.skipped, again.parts) == (len(lost), len(items) - len(lost), 1)
    assert read_decisions(tmp_path) == before  # deterministic, complete
    assert route().processed == 0


def test_tools_stage_alone_runs_only_routed_tools_and_resumes(tmp_path, items, suite):
    routes = [(), ("loudness",), ("tempo", "loudness"), ("segments",)]
    hand_decisions(tmp_path, items, lambda k: routes[k % len(routes)])
    config = ToolsConfig(cache_dir=str(tmp_path / "cache"))
    report = tools_stage(suite, SPLIT, tmp_path, config, chunk_size=CHUNK, progress=False)
    assert report.processed == len(items) and done_ids(tmp_path / "evidence") == {i.id for i in items}
    evidence = read_evidence(tmp_path / "evidence")
    for k, item in enumerate(items):
        assert [r.tool for r in evidence.get(item.id, [])] == list(routes[k % len(routes)])
    assert all(r.ok and r.summary for rs in evidence.values() for r in rs)
    lost = interrupt(tmp_path / "evidence")
    again = tools_stage(suite, SPLIT, tmp_path, config, chunk_size=CHUNK, progress=False)
    assert again.processed == len(lost) and again.skipped == len(items) - len(lost)
    rows = [(r["item_id"], r["tool"]) for f in part_files(tmp_path / "evidence")
            for r in pq.read_table(f, schema=EVIDENCE_SCHEMA).to_pylist()]
    assert len(rows) == len(set(rows)) == sum(len(routes[k % len(routes)]) for k in range(len(items)))


def test_reason_stage_alone_reports_accuracy_and_resumes(tmp_path, items, suite):
    hand_decisions(tmp_path, items, lambda k: ())  # no tools: evidence parts with no rows
    write_part(tmp_path / "evidence", [], EVIDENCE_SCHEMA, [i.id for i in items])
    reasoner = ReasonerConfig(memo_path="")
    report = reason_stage(suite, SPLIT, tmp_path, reasoner, chunk_size=CHUNK, progress=False)
    assert report.processed == len(items)
    assert any(n.startswith("accuracy: ") for n in report.notes)
    answers = by_item(read_answers(tmp_path))
    assert set(answers) == {i.id for i in items}
    for item in items:
        row = answers[item.id]
        assert row["error"] is None and row["prediction"] == item.choices[row["chosen_index"]]
        assert row["correct"] == (row["prediction"] == item.answer)
    lost = interrupt(tmp_path / "answers")
    again = reason_stage(suite, SPLIT, tmp_path, reasoner, chunk_size=CHUNK, progress=False)
    assert again.processed == len(lost)
    rows = read_answers(tmp_path)
    assert len(rows) == len({r["item_id"] for r in rows}) == len(items)
    assert by_item(rows) == answers


def test_reason_waits_for_evidence(tmp_path, items, suite):
    hand_decisions(tmp_path, items, lambda k: ())
    write_part(tmp_path / "evidence", [], EVIDENCE_SCHEMA, [items[0].id])
    report = reason_stage(suite, SPLIT, tmp_path, ReasonerConfig(memo_path=""), chunk_size=CHUNK, progress=False)
    assert report.processed == 1 and "no evidence yet" in report.render()


def settings(tmp_path: Path) -> list[str]:
    values = {"tools.enabled": "[" + ",".join(TOOLS) + "]", "tools.cache_dir": tmp_path / "tool_cache",
              "reasoner.memo_path": "", "router.feature_cache_dir": tmp_path / "features",
              "run.use_actors": "false", "run.out_dir": tmp_path / "runs",
              "tracking.tracking_uri": tmp_path / "mlflow.db", "tracking.artifact_dir": tmp_path / "mlartifacts"}
    return [arg for k, v in values.items() for arg in ("--set", f"{k}={v}")]


def test_cli_stages_one_by_one_then_infer_all_resumes(tmp_path, suite, items, policy, capsys):
    """The three stage commands one by one; then, with the last evidence and answers parts
    lost, ``infer all`` on the same folder routes nothing again, redoes only what was lost
    (each stage reading what the one before wrote) and ends with the same answers."""
    common = ["--data", str(suite), "--split", SPLIT, "--chunk-size", str(CHUNK), "--no-progress"]
    out = tmp_path / "staged"
    assert main([*settings(tmp_path), "infer", "route", *common, "--out", str(out), "--router", str(policy)]) == 0
    assert main([*settings(tmp_path), "infer", "tools", *common, "--out", str(out)]) == 0
    assert main([*settings(tmp_path), "infer", "reason", *common, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "accuracy: " in text
    staged = by_item(read_answers(out))
    assert set(staged) == {i.id for i in items}

    lost = {stage: interrupt(out / stage) for stage in ("evidence", "answers")}
    assert main([*settings(tmp_path), "infer", "all", *common, "--out", str(out),
                 "--router", str(policy.parent)]) == 0  # checkpoint folder holding policy/
    text = capsys.readouterr().out
    assert f"decisions: 0 items processed, {len(items)} already done" in text
    assert f"evidence: {len(lost['evidence'])} items processed" in text
    assert f"answers: {len(lost['answers'])} items processed" in text
    decisions = read_decisions(out)
    evidence = read_evidence(out / "evidence")
    assert all([r.tool for r in evidence.get(i, [])] == list(d.tools) for i, d in decisions.items())
    rows = read_answers(out)
    assert len(rows) == len({r["item_id"] for r in rows}) == len(items)
    assert by_item(rows) == staged
    assert ANSWERS_SCHEMA.names == list(rows[0])
    assert_tracked(tmp_path, out, len(items))


def assert_tracked(tmp_path: Path, out: Path, n_items: int) -> None:
    """Each infer command wrote its summary and an MLflow run with the stage metrics."""
    from mlflow.tracking import MlflowClient

    summary = json.loads((out / "infer_summary.json").read_text())
    assert [s["stage"] for s in summary["stages"]] == ["decisions", "evidence", "answers"]
    assert summary["metrics"]["answers.answered"] == n_items and 0 <= summary["metrics"]["accuracy"] <= 1
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("audiorouter").experiment_id])
    assert len(runs) == 4  # three single stages and `infer all`
    last = max(runs, key=lambda r: r.info.start_time)
    assert last.info.run_name == f"infer-{SPLIT}" and last.data.params["stages"] == "decisions,evidence,answers"
    assert last.data.metrics["decisions.skipped"] == n_items and last.data.metrics["accuracy"] == summary["metrics"]["accuracy"]
