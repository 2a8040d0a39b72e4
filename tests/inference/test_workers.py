"""The stage workers alone (no Ray): a clip that cannot be decoded is reported and kept
as an empty route, error evidence rows or an error answer, and the rest of the batch
is still done."""

from __future__ import annotations

import dataclasses
import json
import math

import pyarrow as pa
import pytest

from audiorouter.config import ReasonerConfig, SynthConfig, ToolsConfig
from audiorouter.contracts import EVIDENCE_SCHEMA
from audiorouter.data.items import iter_items
from audiorouter.data.synth import synthesize_dataset
from audiorouter.features import FeatureSpec
from audiorouter.inference.parts import DECISIONS_SCHEMA, write_part
from audiorouter.inference.workers import ReasonWorker, RouteWorker, ToolsWorker
from audiorouter.router.actions import ActionSpace
from audiorouter.router.policy import RouterNet, RouterPolicy


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> pa.Table:
    """Three items of a tiny suite, the second with unreadable audio bytes."""
    out = tmp_path_factory.mktemp("suite")
    synthesize_dataset(SynthConfig(n=6, seed=5, families=["loudness_compare"], workers=1), out, progress=False)
    items = list(iter_items(out, "train"))[:3]
    items[1] = dataclasses.replace(items[1], audio=b"not audio at all")
    return pa.Table.from_pylist([item.to_row() for item in items])


def unpack(output: dict) -> dict[str, list[dict]]:
    return {item_id: json.loads(rows) for item_id, rows in zip(output["item_id"], output["rows"], strict=True)}


def test_route_worker_keeps_a_bad_clip_as_an_empty_route(tmp_path, batch):
    spec, actions = FeatureSpec(n_mels=8), ActionSpace(("loudness", "segments"), "subsets", 2)
    policy = RouterPolicy(RouterNet(spec.dim, actions.num_logits, (8,)), actions, spec, (8,)).save(tmp_path / "p")
    rows = unpack(RouteWorker(str(policy), None)(batch))
    ids = batch.column("id").to_pylist()
    assert list(rows) == ids
    bad = rows[ids[1]][0]
    assert bad["tools"] == [] and math.isnan(bad["log_prob"])
    assert all(rows[i][0]["log_prob"] <= 0 for i in (ids[0], ids[2]))


def test_tools_and_reason_workers_turn_a_bad_clip_into_error_rows(tmp_path, batch):
    ids = batch.column("id").to_pylist()
    decisions = [{"item_id": i, "tools": ["loudness"], "log_prob": -0.5} for i in ids]
    write_part(tmp_path / "decisions", decisions, DECISIONS_SCHEMA, ids)
    evidence = unpack(ToolsWorker(str(tmp_path), ToolsConfig(cache_dir=""), None)(batch))
    assert [r["ok"] for r in evidence[ids[0]]] == [True] and [r["ok"] for r in evidence[ids[2]]] == [True]
    assert evidence[ids[1]][0]["ok"] is False and "bad clip" in evidence[ids[1]][0]["error"]
    write_part(tmp_path / "evidence", [r for rs in evidence.values() for r in rs], EVIDENCE_SCHEMA, ids)
    answers = unpack(ReasonWorker(str(tmp_path), ReasonerConfig(memo_path=""), None)(batch))
    assert answers[ids[1]][0]["error"].startswith("bad clip") and answers[ids[1]][0]["chosen_index"] == -1
    assert all(answers[i][0]["error"] is None and answers[i][0]["prediction"] for i in (ids[0], ids[2]))


def test_tools_worker_survives_a_segfaulting_tool(tmp_path, batch):
    """The Ray Data tool stage runs tools in place through ToolRunner: a tool that
    segfaults becomes error rows naming it and the signal, then is disabled."""
    from pathlib import Path

    doubles = str(Path(__file__).resolve().parents[1] / "tool_execution" / "tool_doubles.py")
    ids = batch.column("id").to_pylist()
    decisions = [{"item_id": i, "tools": ["segfault", "loudness"], "log_prob": -0.5} for i in ids]
    write_part(tmp_path / "decisions", decisions, DECISIONS_SCHEMA, ids)
    config = ToolsConfig(cache_dir="", plugins=[doubles], max_crashes=1)
    evidence = unpack(ToolsWorker(str(tmp_path), config, None)(batch))
    first, third = evidence[ids[0]], evidence[ids[2]]
    assert first[0]["tool"] == "segfault" and "SIGSEGV" in first[0]["error"] and first[1]["ok"]
    assert "disabled" in third[0]["error"] and third[1]["ok"]
