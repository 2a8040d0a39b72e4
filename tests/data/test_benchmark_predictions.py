r"""MMAU / MMAR write-back, checked the way the benchmarks' own scripts read and score it.

``official_match`` re-implements, from its description, the rule of MMAU's
``evaluation.py`` and MMAR's ``code/evaluation.py``: lower-cased word-token sets
(``\b\w+\b``); correct when the prediction holds every answer token and no token of a
wrong choice (tokens shared with the answer excepted); an empty prediction is wrong;
records without the script's key are skipped. The end-to-end test runs ``audiorouter
eval`` on imported MMAU test-mini-like and MMAR-meta.jsonl-like records and checks that
the written files score, under that rule, exactly the accuracy eval reports.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from eval_helpers import settings, tiny_policy

from audiorouter.cli.main import main
from audiorouter.config import ImportConfig
from audiorouter.contracts import AudioQAItem
from audiorouter.data.importers import import_mmar, import_mmau
from audiorouter.data.importers.predictions import (
    PREDICTION_KEYS,
    prediction_text,
    write_benchmark_predictions,
)

TOOLS = ("loudness", "segments")
MMAU_KEYS = ("model_prediction", "model_output")  # its README's key, and the one its script reads
MMAR_KEY = "answer_prediction"


# --------------------------------------------------------------- the official rule


def words(text: str) -> set[str]:
    return set(re.findall(r"\b\w+\b", text.lower()))


def official_match(answer: str, prediction: str, choices: list[str]) -> bool:
    said, right = words(prediction), words(answer)
    wrong: set[str] = set()
    for choice in choices:
        if words(choice) != right:
            wrong |= words(choice) - right
    return bool(said) and right <= said and not said & wrong


def official_scores(records: list[dict], key: str) -> dict[str, bool]:
    """Per record id, as the scripts score it; records without ``key`` are skipped."""
    return {r["id"]: official_match(r["answer"], r[key], r["choices"]) for r in records if key in r}


def read_as_the_script_does(path: Path) -> list[dict]:
    """MMAU: ``json.load``; MMAR: by the path's ending, ``json.load`` or ``json.loads``
    of every line (no blank line allowed)."""
    with path.open() as handle:
        if str(path).endswith("jsonl"):
            return [json.loads(line.strip()) for line in handle]
        return json.load(handle)


def test_the_rule_as_described():
    choices = ["a violin", "a piano", "a violin and a piano", "drums"]
    assert official_match("a violin", "a violin", choices)
    assert official_match("a violin", "The answer is: A VIOLIN.", choices)  # shared "a" is no wrong token
    assert not official_match("a violin", "", choices)
    assert not official_match("a violin", "A", choices)  # a bare letter
    assert not official_match("a violin", "a violin and a piano", choices)  # echoes another choice
    assert not official_match("drums", "a piano", choices)
    # the scripts' leniency (documented in data/importers/predictions.py): a reordering of the answer
    assert official_match("From far to near", "From near to far", ["From far to near", "From near to far"])


# ------------------------------------------------------------------- the writer


def item(item_id: str, benchmark: str, input_format: str | None, choices: list[str], answer: str) -> AudioQAItem:
    original = {"id": item_id, "choices": choices, "answer": answer, "extra": {"kept": [1, "é"]}}
    meta = {"benchmark": benchmark, "original": original}
    if input_format:
        meta["input_format"] = input_format
    return AudioQAItem(item_id, "q?", choices, answer, "sound", "c", "", "easy", benchmark, meta=meta)


def test_keys_and_formats_per_benchmark(tmp_path):
    items = [item("u1", "mmau", "json", ["yes", "no"], "yes"), item("u2", "mmau", None, ["yes", "no"], "no"),
             item("r1", "mmar", "jsonl", ["x y", "z"], "z"), item("r2", "mmar", "jsonl", ["x", "z"], "x"),
             item("r3", "mmar", "json", ["x", "z"], "z"), item("s1", "", None, ["x", "z"], "z")]
    predictions = {"u1": "yes", "u2": prediction_text(["yes", "no"], -1), "r1": "x y", "r2": "x", "r3": "z", "s1": "z"}
    paths = write_benchmark_predictions(items, predictions, tmp_path)
    assert sorted(p.name for p in paths) == ["mmar_predictions.json", "mmar_predictions.jsonl", "mmau_predictions.json"]
    mmau = read_as_the_script_does(tmp_path / "mmau_predictions.json")
    assert [(r["model_prediction"], r["model_output"]) for r in mmau] == [("yes", "yes"), ("", "")]
    assert [r["extra"] for r in mmau] == [{"kept": [1, "é"]}] * 2
    lines = (tmp_path / "mmar_predictions.jsonl").read_text()
    assert lines.endswith("}\n") and "\n\n" not in lines and "\\u00e9" in lines  # ASCII, one record a line
    mmar = read_as_the_script_does(tmp_path / "mmar_predictions.jsonl")
    assert [(r["id"], r[MMAR_KEY]) for r in mmar] == [("r1", "x y"), ("r2", "x")]
    assert all(set(r) == {"id", "choices", "answer", "extra", MMAR_KEY} for r in mmar)
    assert read_as_the_script_does(tmp_path / "mmar_predictions.json")[0][MMAR_KEY] == "z"
    assert official_scores(mmau, "model_output") == {"u1": True, "u2": False}  # "" is wrong
    assert PREDICTION_KEYS == {"mmau": MMAU_KEYS, "mmar": (MMAR_KEY,)}


# ------------------------------------------------------- end to end through eval


def write_tone(path: Path, hz: float, seconds: float = 0.4, sample_rate: int = 16_000) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    sf.write(path, 0.5 * np.sin(2 * np.pi * hz * t), sample_rate)


MMAU_ROWS = [  # (task, category, sub-category, difficulty, choices, answer)
    ("sound", ["Reasoning"], "Acoustic Source Inference", "medium", ["Man", "Woman", "Child", "Robot"], "Man"),
    ("sound", "Information Extraction", None, "easy", ["a dog barking", "a dog and a cat", "rain", "wind"],
     "a dog and a cat"),
    ("music", ["Reasoning"], "Tempo", "hard", ["slow", "moderate", "fast", "very fast"], "very fast"),
    ("music", "Information Extraction", "Instrument Identification", "easy", ["piano", "guitar"], "guitar"),
    ("speech", "Reasoning", None, "hard", ["one", "two", "three", "four", "five"], "three"),
    ("speech", "Information Extraction", "Speaker Count", "medium", ["one speaker", "two speakers", "three speakers",
                                                                      "four speakers"], "four speakers"),
]
MMAR_ROWS = [  # (modality, category, sub-category, choices, answer)
    ("sound", "Signal Layer", "Counting", ["once", "twice"], "twice"),
    ("music", "Perception Layer", "Pitch", ["rising", "falling", "steady"], "steady"),
    ("speech", "Semantic Layer", "Emotion", ["happy", "sad", "angry", "calm"], "happy"),
    ("mix-sound-music", "Cultural Layer", "Professional Knowledge and Reasoning",
     ["Mountain Canyon", "Dense Forest", "Open Grassland", "City Streets", "Seaside"], "Dense Forest"),
    ("mix-sound-music-speech", "Semantic Layer", "Emotion",
     ["1", "2", "3", "4", "5", "6"], "5"),
]


def mmau_records(root: Path) -> list[dict]:
    records = []
    for k, (task, category, sub, difficulty, choices, answer) in enumerate(MMAU_ROWS):
        audio_id = f"./test-mini-audios/u{k}.wav"
        write_tone(root / audio_id, 220.0 * (k + 1))
        records.append({"id": f"mmau-{k}", "audio_id": audio_id, "question": f"Question {k} about the clip?",
                        "choices": choices, "answer": answer, "dataset": "AudioSet", "task": task,
                        "split": "test-mini", "category": category, "sub-category": sub, "difficulty": difficulty})
    return records


def mmar_records(root: Path) -> list[dict]:
    records = []
    for k, (modality, category, sub, choices, answer) in enumerate(MMAR_ROWS):
        audio_path = f"./audio/r{k}.wav"
        write_tone(root / audio_path, 330.0 * (k + 1))
        records.append({"id": f"mmar-{k}", "audio_path": audio_path, "question": f"What about clip {k}?",
                        "choices": choices, "answer": answer, "modality": modality, "category": category,
                        "sub-category": sub, "language": None if k % 2 else "en", "source": "youtube",
                        "url": f"https://example.org/{k}", "timestamp": "00:00:00,00:00:05",
                        "thinking": f"Reasoning for {k}.", "cue": ["cue a", "cue b"],
                        "rubric": [{"name": "Cue", "scoring_point": "1 point", "note": "n", "choices": [0, 1]}]})
    return records


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory) -> tuple[Path, list[dict], list[dict]]:
    """One ``eval`` run over imported MMAU (JSON list) and MMAR (JSON lines) items."""
    tmp = tmp_path_factory.mktemp("benchmarks")
    mmau, mmar = mmau_records(tmp / "mmau"), mmar_records(tmp / "mmar")
    (tmp / "mmau-test-mini.json").write_text(json.dumps(mmau, indent=2))
    (tmp / "MMAR-meta.jsonl").write_text("".join(json.dumps(r) + "\n" for r in mmar))
    assert import_mmau(tmp / "mmau-test-mini.json", tmp / "mmau", tmp / "data").rejected == 0
    assert import_mmar(tmp / "MMAR-meta.jsonl", tmp / "mmar", tmp / "mmar-data", ImportConfig()).rejected == 0
    # one split holding both imports, so one eval run covers both benchmarks
    shutil.copy(tmp / "mmar-data/test/part-00000.parquet", tmp / "data/test/part-00001.parquet")
    out = tmp / "eval"
    assert main([*settings(tmp, TOOLS), "eval", "--data", str(tmp / "data"), "--split", "test", "--router",
                 str(tiny_policy(tmp / "ckpt", TOOLS)), "--out", str(out), "--resamples", "50"]) == 0
    return out, mmau, mmar


def test_written_records_score_exactly_the_reported_accuracy(evaluated):
    out, mmau, mmar = evaluated
    report = json.loads((out / "report.json").read_text())
    router = next(p for p in report["policies"] if p["name"] == "trained router")
    ours = {r["id"]: r["correct"] for r in map(json.loads, (out / "predictions.jsonl").read_text().splitlines())}
    written_mmau = read_as_the_script_does(out / "mmau_predictions.json")
    written_mmar = read_as_the_script_does(out / "mmar_predictions.jsonl")
    assert not (out / "mmar_predictions.json").exists()  # the format of the imported file
    scored = official_scores(written_mmau, "model_output") | official_scores(written_mmar, MMAR_KEY)
    assert len(scored) == len(mmau) + len(mmar) == report["items"]  # nothing skipped for a missing key
    assert scored == ours
    assert sum(scored.values()) / len(scored) == pytest.approx(router["accuracy"], abs=1e-12)
    assert 0 < router["accuracy"] < 1  # some right and some wrong, so the match means something
    assert official_scores(written_mmau, "model_prediction") == official_scores(written_mmau, "model_output")


def test_written_records_are_the_originals_plus_the_chosen_text(evaluated):
    out, mmau, mmar = evaluated
    written_mmau = read_as_the_script_does(out / "mmau_predictions.json")
    written_mmar = read_as_the_script_does(out / "mmar_predictions.jsonl")
    for originals, written, keys in ((mmau, written_mmau, MMAU_KEYS), (mmar, written_mmar, (MMAR_KEY,))):
        assert [r["id"] for r in written] == [r["id"] for r in originals]
        for original, record in zip(originals, written, strict=True):
            assert {k: v for k, v in record.items() if k not in keys} == original  # lists, nulls, extras kept
            assert list(record) == [*original, *keys]  # in the original key order
            assert len({record[k] for k in keys}) == 1 and record[keys[0]] in original["choices"]
    assert sorted(len(r["choices"]) for r in written_mmar) == [2, 3, 4, 5, 6]


def test_eval_breaks_accuracy_down_by_sub_category(evaluated):
    out, mmau, mmar = evaluated
    report = json.loads((out / "report.json").read_text())
    router = next(p for p in report["policies"] if p["name"] == "trained router")
    subs = {r["sub-category"] or "unknown" for r in mmau + mmar}
    assert set(router["per_sub_category"]) == subs
    written = read_as_the_script_does(out / "mmar_predictions.jsonl")
    emotion = [official_match(r["answer"], r[MMAR_KEY], r["choices"]) for r in written
               if r["sub-category"] == "Emotion"]  # the scripts' own sub-category table
    assert router["per_sub_category"]["Emotion"] == pytest.approx(sum(emotion) / len(emotion))
    assert "accuracy by sub-category" in (out / "report.txt").read_text()
