"""MMAU / MMAR importers: round trip of valid records, and one test per rejection path."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audiorouter.config import ImportConfig
from audiorouter.data.audio_io import decode_audio
from audiorouter.data.importers import NothingValidError, import_mmar, import_mmau
from audiorouter.data.items import iter_items, read_rejects

TONE_HZ = 440.0
# (relative path, seconds, sample rate, channels): proves resampling and downmix
CLIPS = {
    "mmau-a": ("./test-mini-audios/a.wav", 0.5, 44_100, 2),
    "mmau-b": ("./test-mini-audios/b.wav", 0.3, 22_050, 1),
}


def write_tone(path: Path, seconds: float, sample_rate: int, channels: int = 1) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(round(seconds * sample_rate))) / sample_rate
    tone = 0.5 * np.sin(2 * np.pi * TONE_HZ * t)
    sf.write(path, np.stack([tone] * channels, axis=1), sample_rate)


def mmau_record(record_id: str, audio_id: str, **changes) -> dict:
    record = {
        "id": record_id,
        "audio_id": audio_id,
        "question": f"What is heard in {record_id}?",
        "choices": ["a tone", "speech", "silence"],
        "answer": "a tone",
        "dataset": "synthetic",
        "task": "sound",
        "split": "test-mini",
        "category": "Sound-Based Event Recognition",
        "sub-category": None,
        "difficulty": "easy",
    }
    return {**record, **changes}


@pytest.fixture
def mmau(tmp_path: Path) -> tuple[Path, list[dict]]:
    """An MMAU audio root with two valid clips, and their records."""
    root = tmp_path / "mmau"
    for rel, seconds, sample_rate, channels in CLIPS.values():
        write_tone(root / rel, seconds, sample_rate, channels)
    records = [mmau_record(record_id, clip[0]) for record_id, clip in CLIPS.items()]
    records[1].update({"task": "music", "sub-category": "Instrument", "difficulty": "hard"})
    return root, records


def run_mmau(tmp_path: Path, root: Path, records: list, config: ImportConfig | None = None):
    json_path = tmp_path / "mmau.json"
    json_path.write_text(json.dumps(records))
    out = tmp_path / "out"
    return import_mmau(json_path, root, out, config or ImportConfig()), out


def imported(out: Path) -> dict:
    return {item.id: item for item in iter_items(out, "test")}


def dominant_hz(waveform: np.ndarray, sample_rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(waveform))
    return float(np.fft.rfftfreq(waveform.size, 1 / sample_rate)[np.argmax(spectrum)])


# ------------------------------------------------------------------- round trip


def test_mmau_round_trip(tmp_path, mmau):
    root, records = mmau
    report, out = run_mmau(tmp_path, root, records)
    assert (report.imported, report.rejected) == (2, 0)
    items = imported(out)
    assert sorted(items) == ["mmau-a", "mmau-b"]
    for record in records:
        item = items[record["id"]]
        assert (item.question, item.choices, item.answer) == (
            record["question"], record["choices"], record["answer"]
        )
        assert (item.task, item.category, item.source) == (record["task"], record["category"], "mmau")
        assert item.meta == {"benchmark": "mmau", "original": record, "input_format": "json"}
    assert (items["mmau-a"].sub_category, items["mmau-a"].difficulty) == ("", "easy")
    assert (items["mmau-b"].sub_category, items["mmau-b"].difficulty) == ("Instrument", "hard")


def test_audio_is_stored_as_16k_mono_flac_of_the_same_length(tmp_path, mmau):
    root, records = mmau
    _, out = run_mmau(tmp_path, root, records)
    for record_id, item in imported(out).items():
        seconds = CLIPS[record_id][1]
        info = sf.info(io.BytesIO(item.audio))
        assert (info.format, info.channels, info.samplerate) == ("FLAC", 1, 16_000)
        waveform, sample_rate = decode_audio(item.audio)
        assert (item.sample_rate, sample_rate) == (16_000, 16_000)
        assert abs(waveform.size / sample_rate - seconds) < 0.005
        assert abs(item.duration_s - seconds) < 0.005
        assert abs(dominant_hz(waveform, sample_rate) - TONE_HZ) < 5.0


def test_mmar_round_trip(tmp_path):
    root = tmp_path / "mmar"
    write_tone(root / "audio/x.wav", 0.4, 44_100, channels=2)
    record = {
        "id": "mmar-x", "audio_path": "./audio/x.wav", "question": "Which instrument plays?",
        "choices": ["piano", "violin"], "answer": "violin", "modality": "music",
        "category": "Perception Layer", "sub-category": "Instrument", "language": "en",
        "source": "youtube", "url": "https://example.org/v", "timestamp": "00:01-00:05",
    }
    json_path = tmp_path / "mmar.json"
    json_path.write_text(json.dumps([record]))
    report = import_mmar(json_path, root, tmp_path / "out", ImportConfig(split="validation"))
    assert report.imported == 1
    [item] = iter_items(tmp_path / "out", "validation")
    assert (item.id, item.question, item.choices, item.answer) == (
        "mmar-x", record["question"], ["piano", "violin"], "violin"
    )
    assert (item.task, item.category, item.sub_category) == ("music", "Perception Layer", "Instrument")
    assert (item.difficulty, item.source) == ("unknown", "mmar")
    assert item.meta == {"benchmark": "mmar", "original": record, "input_format": "json"}
    assert abs(item.duration_s - 0.4) < 0.005


def mmar_meta_record(record_id: str, audio_path: str, **changes) -> dict:
    """Shaped like a line of MMAR-meta.jsonl, extra keys included."""
    record = {
        "id": record_id, "audio_path": audio_path, "question": "Which instrument plays?",
        "choices": ["piano", "violin"], "answer": "violin", "modality": "mix-sound-music",
        "category": "Perception Layer", "sub-category": "Instrument", "language": None,
        "source": "youtube", "url": "https://example.org/v", "timestamp": "00:00:01,00:00:05",
        "thinking": "Bowed strings: a violin.", "cue": ["bowing", "timbre"],
        "rubric": [{"name": "Cue", "scoring_point": "Award 1 point ...", "note": "...", "choices": [0, 1]}],
    }
    return {**record, **changes}


def test_mmar_meta_jsonl_keeps_every_key_and_records_its_format(tmp_path):
    root = tmp_path / "mmar"
    write_tone(root / "audio/x.wav", 0.3, 22_050)
    write_tone(root / "audio/y.wav", 0.3, 22_050)
    records = [mmar_meta_record("x", "./audio/x.wav"), mmar_meta_record("y", "./audio/y.wav", answer="piano")]
    path = tmp_path / "MMAR-meta.jsonl"
    path.write_text(json.dumps(records[0]) + "\n\n" + json.dumps(records[1]) + "\n")  # a blank line is skipped
    report = import_mmar(path, root, tmp_path / "out", ImportConfig())
    assert (report.imported, report.rejected) == (2, 0)
    items = imported(tmp_path / "out")
    for record in records:
        assert items[record["id"]].meta == {"benchmark": "mmar", "original": record, "input_format": "jsonl"}
    assert (items["x"].task, items["x"].sub_category, items["y"].answer) == ("mix-sound-music", "Instrument", "piano")


def test_jsonl_bad_lines_are_rejects_naming_their_line(tmp_path):
    root = tmp_path / "mmar"
    write_tone(root / "audio/x.wav", 0.3, 22_050)
    lines = [json.dumps(mmar_meta_record("x", "./audio/x.wav")), '{"id": "cut", "audio_path": ', "", "[1, 2]"]
    path = tmp_path / "MMAR-meta.jsonl"
    path.write_text("\n".join(lines) + "\n")
    report = import_mmar(path, root, tmp_path / "out", ImportConfig())
    assert (report.imported, report.rejected) == (1, 2)
    rejects = read_rejects(tmp_path / "out")
    assert [r["id"] for r in rejects] == ["line 2", "line 4"]
    assert rejects[0]["reason"].startswith("line 2 is not valid JSON: Expecting value (column ")
    assert rejects[1]["reason"] == "line 4 is not a JSON object (got list)"


def test_records_nested_too_deep_are_rejected_alone(tmp_path, mmau):
    """A .jsonl line 100,000 deep and a .json element with an extra field 500 deep: one
    reject each, before any audio is decoded (both used to fail the whole import)."""
    root = tmp_path / "mmar"
    write_tone(root / "audio/x.wav", 0.3, 22_050)
    deep = "[" * 100_000 + "]" * 100_000
    lines = [json.dumps(mmar_meta_record("x", "./audio/x.wav")), '{"id": "deep", "choices": ' + deep + "}"]
    (tmp_path / "MMAR-meta.jsonl").write_text("\n".join(lines) + "\n")
    report = import_mmar(tmp_path / "MMAR-meta.jsonl", root, tmp_path / "out-jsonl", ImportConfig())
    assert (report.imported, report.rejected) == (1, 1)
    assert read_rejects(tmp_path / "out-jsonl") == [
        {"id": "line 2", "reason": "line 2 is nested 100001 deep, over the limit of 64", "source": "mmar"}]

    mmau_root, records = mmau
    extra = '{"id": "deep", "extra": ' + "[" * 500 + "]" * 500 + "}"
    text = "[" + ", ".join([json.dumps(records[0]), extra, json.dumps(records[1])]) + "]"
    (tmp_path / "mmau.json").write_text(text)
    report = import_mmau(tmp_path / "mmau.json", mmau_root, tmp_path / "out-json", ImportConfig())
    assert (report.imported, report.rejected) == (2, 1)
    assert read_rejects(tmp_path / "out-json")[0]["reason"] == "record[1] is nested 501 deep, over the limit of 64"


def test_one_element_list_fields_are_normalised_and_recorded(tmp_path, mmau):
    """MMAU test-mini gives 13 categories as ["Reasoning"]; several values are joined."""
    root, records = mmau
    records[0]["category"] = ["Reasoning"]
    records[1].update({"category": ["Reasoning", "Counting"], "sub-category": ["Instrument"]})
    _, out = run_mmau(tmp_path, root, records)
    items = imported(out)
    a, b = items["mmau-a"], items["mmau-b"]
    assert (a.category, a.sub_category) == ("Reasoning", "")
    assert a.meta["normalised"] == {"category": ["Reasoning"]} and a.meta["original"] == records[0]
    assert (b.category, b.sub_category) == ("Reasoning + Counting", "Instrument")
    assert b.meta["normalised"] == {"category": ["Reasoning", "Counting"], "sub-category": ["Instrument"]}


def test_list_that_is_not_text_is_still_rejected(tmp_path, mmau):
    root, records = mmau
    report, out = run_mmau(tmp_path, root, [records[0], mmau_record("bad", CLIPS["mmau-a"][0], category=[1])])
    assert report.rejected == 1
    assert read_rejects(out)[0]["reason"] == "'category' must be a non-empty string, got [1]"


def test_report_renders_counts_and_rejects_path(tmp_path, mmau):
    root, records = mmau
    report, out = run_mmau(tmp_path, root, [*records, mmau_record("bad", "./missing.wav")])
    text = report.render()
    assert "Imported 2 of 3 mmau records" in text
    assert str(out / "rejects.jsonl") in text and report.rejects_path == out / "rejects.jsonl"


# ------------------------------------------------------------------- rejections


def write_bytes(root: Path, rel: str, payload: bytes) -> str:
    (root / rel).write_bytes(payload)
    return rel


def write_nan_wav(root: Path, rel: str) -> str:
    samples = np.zeros(1600, dtype=np.float32)
    samples[100:103] = [np.nan, np.inf, np.nan]
    sf.write(root / rel, samples, 16_000, subtype="FLOAT")
    return rel


def write_long_clip(root: Path, rel: str) -> str:
    write_tone(root / rel, 1.0, 16_000)
    return rel


def write_outside(root: Path, name: str = "outside.wav") -> Path:
    """A valid clip next to the audio root, which no record may reach."""
    write_tone(root.parent / name, 0.3, 16_000)
    return root.parent / name


def symlink(root: Path, rel: str, target: Path) -> str:
    (root / rel).symlink_to(target)
    return rel


def make_dir(root: Path, rel: str) -> str:
    (root / rel).mkdir()
    return rel


def clip_record(**changes) -> dict:
    return mmau_record("bad", CLIPS["mmau-a"][0], **changes)


# (name, builds the bad record from the audio root, expected reason text)
REJECTIONS = [
    ("answer-not-a-choice", lambda root: mmau_record("bad", CLIPS["mmau-a"][0], answer="z"),
     "answer 'z' is not one of the choices ['a tone', 'speech', 'silence']"),
    ("missing-audio", lambda root: mmau_record("bad", "./nowhere.wav"),
     "audio file not found: "),
    ("garbage-audio", lambda root: mmau_record("bad", write_bytes(root, "junk.wav", b"not audio" * 50)),
     "unreadable audio"),
    ("empty-audio", lambda root: mmau_record("bad", write_bytes(root, "empty.wav", b"")),
     "audio file is empty (0 bytes)"),
    ("nan-audio", lambda root: mmau_record("bad", write_nan_wav(root, "nan.wav")),
     "audio has 3 NaN/inf samples"),
    ("too-long", lambda root: mmau_record("bad", write_long_clip(root, "long.wav")),
     "duration 1.0 s exceeds the limit of 0.8 s"),
    ("missing-key", lambda root: {k: v for k, v in mmau_record("bad", "./x.wav").items() if k != "answer"},
     "missing required key(s): 'answer'"),
    ("choices-not-strings", lambda root: mmau_record("bad", CLIPS["mmau-a"][0], choices=[1, 2], answer=1),
     "choices must be a list of strings"),
    ("choices-not-a-list", lambda root: mmau_record("bad", CLIPS["mmau-a"][0], choices="a tone, speech"),
     "choices must be a list of strings"),
    ("one-choice", lambda root: mmau_record("bad", CLIPS["mmau-a"][0], choices=["a tone"]),
     "choices must hold at least 2 options"),
    ("empty-question", lambda root: mmau_record("bad", CLIPS["mmau-a"][0], question=""),
     "the question is empty"),
    # the reasoner's own checks (audiorouter.validation), so it never refuses an imported item
    ("27-choices", lambda root: clip_record(choices=["a tone", *(f"c{i}" for i in range(26))]),
     "choices must hold at most 26 options (one letter A-Z each), got 27"),
    # audio paths must resolve inside the audio root
    ("absolute-path-outside", lambda root: mmau_record("bad", str(write_outside(root))),
     "outside the audio root"),
    ("dotdot-path-outside", lambda root: mmau_record("bad", write_outside(root) and "./sub/../../outside.wav"),
     "audio path './sub/../../outside.wav' resolves to"),
    ("symlink-out-of-the-root", lambda root: mmau_record("bad", symlink(root, "escape.wav", write_outside(root))),
     "audio path 'escape.wav' resolves to"),
    ("symlink-to-a-device", lambda root: mmau_record("bad", symlink(root, "dev.wav", Path("/dev/null"))),
     "audio path 'dev.wav' resolves to '/dev/null', outside the audio root"),
    ("directory-as-audio", lambda root: mmau_record("bad", make_dir(root, "folder.wav")),
     "audio path is a directory: "),
    ("broken-symlink", lambda root: mmau_record("bad", symlink(root, "dangling.wav", root / "gone.wav")),
     "audio path is a broken symlink: "),
]


# Real benchmark quirks the reasoner could not answer, normalised (and recorded) instead of rejected:
# (name, choices and answer as given, choices and answer as imported)
NORMALISED_CHOICES = [
    ("empty-string-choice", (["a tone", "speech", ""], "speech"), (["a tone", "speech"], "speech")),  # 4 real MMAR records
    ("blank-choice", (["a tone", "  ", "speech"], "a tone"), (["a tone", "speech"], "a tone")),
    ("exact-repeat", (["a tone", "speech", "a tone"], "a tone"), (["a tone", "speech"], "a tone")),
    ("equal-up-to-case-and-spaces", (["a tone", "speech", " A Tone"], " A Tone"), (["a tone", "speech"], "a tone")),
]


@pytest.mark.parametrize("given, imported", [r[1:] for r in NORMALISED_CHOICES], ids=[r[0] for r in NORMALISED_CHOICES])
def test_choice_quirks_are_normalised_and_recorded(tmp_path, mmau, given, imported):
    root, records = mmau
    record = clip_record(choices=given[0], answer=given[1])
    report, out = run_mmau(tmp_path, root, [records[0], record], ImportConfig())
    assert report.rejected == 0
    item = next(i for i in iter_items(out, "test") if i.id == "bad")
    assert (item.choices, item.answer) == imported
    assert item.meta["normalised"]["choices"] == given[0]
    assert item.meta["original"]["choices"] == given[0], "the record is written back as it came"
    if given[1] != imported[1]:
        assert item.meta["normalised"]["answer"] == given[1]


@pytest.mark.parametrize("build, reason", [r[1:] for r in REJECTIONS], ids=[r[0] for r in REJECTIONS])
def test_bad_record_is_rejected_and_valid_ones_imported(tmp_path, mmau, build, reason):
    root, records = mmau
    config = ImportConfig(max_duration_s=0.8)
    report, out = run_mmau(tmp_path, root, [records[0], build(root), records[1]], config)
    assert [(r["id"], r["source"]) for r in read_rejects(out)] == [("bad", "mmau")]
    assert reason in read_rejects(out)[0]["reason"]
    assert (report.imported, report.rejected) == (2, 1)
    assert sorted(imported(out)) == ["mmau-a", "mmau-b"]


def test_duplicate_id_keeps_the_first_occurrence(tmp_path, mmau):
    root, records = mmau
    second = mmau_record("mmau-a", CLIPS["mmau-b"][0], question="Second copy?")
    _, out = run_mmau(tmp_path, root, [*records, second])
    assert read_rejects(out) == [
        {"id": "mmau-a", "reason": "duplicate id 'mmau-a' (its first occurrence was kept)", "source": "mmau"}
    ]
    items = imported(out)
    assert sorted(items) == ["mmau-a", "mmau-b"]
    assert items["mmau-a"].question == records[0]["question"]


def test_record_that_is_not_an_object_is_rejected_by_position(tmp_path, mmau):
    root, records = mmau
    _, out = run_mmau(tmp_path, root, [*records, "just a string"])
    assert read_rejects(out) == [
        {"id": "record[2]", "reason": "record is not a JSON object (got str)", "source": "mmau"}
    ]


def test_mmar_record_without_modality_is_rejected(tmp_path):
    root = tmp_path / "mmar"
    write_tone(root / "audio/x.wav", 0.2, 22_050)
    good = {"id": "ok", "audio_path": "audio/x.wav", "question": "Q?", "choices": ["a", "b"],
            "answer": "a", "modality": "speech", "category": "Semantic Layer", "sub-category": None}
    bad = {k: v for k, v in good.items() if k != "modality"} | {"id": "bad"}
    json_path = tmp_path / "mmar.json"
    json_path.write_text(json.dumps([good, bad]))
    report = import_mmar(json_path, root, tmp_path / "out", ImportConfig())
    assert report.imported == 1
    assert read_rejects(tmp_path / "out") == [
        {"id": "bad", "reason": "missing required key(s): 'modality'", "source": "mmar"}
    ]


def test_reimport_replaces_the_sources_reject_lines(tmp_path, mmau):
    root, records = mmau
    bad = mmau_record("bad", "./missing.wav")
    run_mmau(tmp_path, root, [*records, bad])
    _, out = run_mmau(tmp_path, root, [*records, bad])
    assert [r["id"] for r in read_rejects(out)] == ["bad"]


# --------------------------------------------------------------- whole-file errors


def test_all_invalid_raises_nothing_valid(tmp_path, mmau):
    root, _ = mmau
    records = [mmau_record("x", "./gone.wav"), mmau_record("y", "./gone.wav", answer="nope")]
    with pytest.raises(NothingValidError, match=r"no valid records: all 2 were rejected, see .*rejects\.jsonl"):
        run_mmau(tmp_path, root, records)
    assert [r["id"] for r in read_rejects(tmp_path / "out")] == ["x", "y"]


def test_json_that_is_not_a_list_is_a_clear_error(tmp_path, mmau):
    root, records = mmau
    with pytest.raises(ValueError, match="must hold a JSON list of records, got a JSON dict"):
        run_mmau(tmp_path, root, {"data": records})


def test_file_format_mismatches_are_clear_errors(tmp_path, mmau):
    root, records = mmau
    lines = tmp_path / "mmau.json"
    lines.write_text("".join(json.dumps(r) + "\n" for r in records))
    with pytest.raises(ValueError, match=r"Extra data.*one JSON object per line is read from a \.jsonl file"):
        import_mmau(lines, root, tmp_path / "out")
    listed = tmp_path / "mmau.jsonl"
    listed.write_text(json.dumps(records, indent=2))
    with pytest.raises(ValueError, match=r"holds a JSON list, not one JSON object per line: name it \.json"):
        import_mmau(listed, root, tmp_path / "out")
    blank = tmp_path / "blank.jsonl"
    blank.write_text("\n\n")
    with pytest.raises(ValueError, match="holds no JSON lines"):
        import_mmau(blank, root, tmp_path / "out")


def test_empty_list_and_missing_audio_root_are_clear_errors(tmp_path, mmau):
    root, _ = mmau
    with pytest.raises(ValueError, match="holds an empty list"):
        run_mmau(tmp_path, root, [])
    with pytest.raises(FileNotFoundError, match="audio root folder not found"):
        run_mmau(tmp_path, tmp_path / "nope", [mmau_record("x", "a.wav")])
