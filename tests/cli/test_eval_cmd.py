"""``audiorouter eval`` end to end on a tiny suite and a tiny router (in-process reasoner).
The MMAU / MMAR write-back through ``eval`` is tested in tests/evaluation/test_benchmarks.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eval_helpers import settings, tiny_policy

from audiorouter.cli.main import main
from audiorouter.config import SynthConfig
from audiorouter.data.synth import synthesize_dataset


@pytest.fixture(scope="module")
def suite(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("suite")
    synthesize_dataset(SynthConfig(n=30, seed=2, families=["tempo", "duration"], workers=1), out, progress=False)
    return out


def test_eval_writes_every_report(tmp_path, suite, capsys):
    router = tiny_policy(tmp_path / "ckpt")
    out = tmp_path / "eval"
    code = main([*settings(tmp_path), "eval", "--data", str(suite), "--split", "test", "--router", str(router),
                 "--out", str(out), "--resamples", "200"])
    assert code == 0
    text = capsys.readouterr().out
    for name in ("no tools", "all tools", "only tempo", "best single tool", "random routing", "trained router",
                 "oracle routing", "paired bootstrap", "accuracy by sub-category", "accuracy by difficulty"):
        assert name in text
    for name in ("report.txt", "report.json", "accuracy_by_task.png", "tool_usage.png", "predictions.jsonl"):
        assert (out / name).stat().st_size > 0
    report = json.loads((out / "report.json").read_text())
    acc = {p["name"]: p["accuracy"] for p in report["policies"]}
    assert acc["oracle routing"] >= max(acc["no tools"], acc["trained router"], acc["only tempo"])
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert len(rows) == report["items"] and all(r["prediction"] for r in rows)
    assert not list(out.glob("*_predictions.json*"))  # the built-in suite has no benchmark records
    assert list((tmp_path / "mlartifacts").rglob("report.json"))  # logged to MLflow
