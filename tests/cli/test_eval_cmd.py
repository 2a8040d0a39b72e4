"""``audiorouter eval`` end to end on a tiny suite and a tiny router (in-process reasoner),
and the MMAU / MMAR ``model_prediction`` write-back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audiorouter.cli.main import main
from audiorouter.config import SynthConfig
from audiorouter.data.importers import import_mmar, import_mmau
from audiorouter.data.store import iter_items
from audiorouter.data.synth import synthesize_dataset
from audiorouter.evaluation.benchmarks import PREDICTION_KEY, write_benchmark_predictions
from audiorouter.router.actions import ActionSpace
from audiorouter.router.features import FeatureSpec
from audiorouter.router.policy import RouterNet, RouterPolicy

TOOLS = ("loudness", "segments", "tempo")


def tiny_policy(directory: Path) -> Path:
    spec = FeatureSpec(n_mels=8)
    actions = ActionSpace(TOOLS, "subsets", 2)
    RouterPolicy(RouterNet(spec.dim, actions.num_logits, (8,)), actions, spec, (8,)).save(directory / "policy")
    return directory


def settings(tmp_path: Path) -> list[str]:
    values = {"tools.enabled": "[" + ",".join(TOOLS) + "]", "tools.cache_dir": tmp_path / "tool_cache",
              "reasoner.memo_path": tmp_path / "memo.sqlite", "router.feature_cache_dir": tmp_path / "features",
              "tracking.tracking_uri": tmp_path / "mlflow.db", "tracking.artifact_dir": tmp_path / "mlartifacts",
              "run.use_actors": "false", "run.out_dir": tmp_path / "runs"}
    return [arg for k, v in values.items() for arg in ("--set", f"{k}={v}")]


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
                 "oracle routing", "paired bootstrap", "accuracy by difficulty"):
        assert name in text
    for name in ("report.txt", "report.json", "accuracy_by_task.png", "tool_usage.png", "predictions.jsonl"):
        assert (out / name).stat().st_size > 0
    report = json.loads((out / "report.json").read_text())
    acc = {p["name"]: p["accuracy"] for p in report["policies"]}
    assert acc["oracle routing"] >= max(acc["no tools"], acc["trained router"], acc["only tempo"])
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert len(rows) == report["items"] and all(r["prediction"] for r in rows)
    assert not list(out.glob("*_predictions.json"))  # the built-in suite has no benchmark records
    assert list((tmp_path / "mlartifacts").rglob("report.json"))  # logged to MLflow


def write_tone(path: Path, seconds: float = 0.5, sample_rate: int = 16_000) -> None:
    import numpy as np
    import soundfile as sf

    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    sf.write(path, 0.5 * np.sin(2 * np.pi * 440 * t), sample_rate)


def test_mmau_model_prediction_round_trip(tmp_path, capsys):
    root = tmp_path / "mmau"
    records = []
    for k in range(3):
        write_tone(root / f"a{k}.wav")
        records.append({"id": f"m{k}", "audio_id": f"./a{k}.wav", "question": "What is heard?",
                        "choices": ["a tone", "speech"], "answer": "a tone", "dataset": "x", "task": "sound",
                        "split": "test", "category": "Sound", "sub-category": None, "difficulty": "easy"})
    (tmp_path / "mmau.json").write_text(json.dumps(records))
    import_mmau(tmp_path / "mmau.json", root, tmp_path / "data")
    split = next(p.name for p in (tmp_path / "data").iterdir() if p.is_dir() and list(p.glob("*.parquet")))
    out = tmp_path / "eval"
    assert main([*settings(tmp_path), "eval", "--data", str(tmp_path / "data"), "--split", split,
                 "--router", str(tiny_policy(tmp_path / "ckpt") / "policy"), "--out", str(out),
                 "--resamples", "50"]) == 0
    written = json.loads((out / "mmau_predictions.json").read_text())
    assert [r["id"] for r in written] == ["m0", "m1", "m2"]
    for original, record in zip(records, written, strict=True):
        assert record[PREDICTION_KEY] in original["choices"]
        assert {k: v for k, v in record.items() if k != PREDICTION_KEY} == original


def test_mmar_model_prediction_round_trip(tmp_path):
    root = tmp_path / "mmar"
    write_tone(root / "audio/x.wav")
    record = {"id": "mmar-x", "audio_path": "./audio/x.wav", "question": "Which instrument plays?",
              "choices": ["piano", "violin"], "answer": "piano", "modality": "music", "category": "Music",
              "sub-category": "Instrument", "language": "en"}
    (tmp_path / "mmar.json").write_text(json.dumps([record]))
    import_mmar(tmp_path / "mmar.json", root, tmp_path / "data")
    items = [i for split in ("test", "train", "validation") for i in iter_items(tmp_path / "data", split)]
    (path,) = write_benchmark_predictions(items, {"mmar-x": "violin"}, tmp_path / "out")
    assert path.name == "mmar_predictions.json"
    assert json.loads(path.read_text()) == [{**record, PREDICTION_KEY: "violin"}]
