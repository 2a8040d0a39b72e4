"""The importers under generated records: MMAU's documented keys, each maybe missing,
mistyped, oversized or nested deep, with audio paths to good, damaged, missing and
hostile files, in a JSON list or JSON lines. Every record is imported or rejected with
a reason; the only whole-file outcome is "nothing valid"; nothing else is raised."""

from __future__ import annotations

import json
import os
import tempfile
import tracemalloc
from pathlib import Path

from fuzz_strategies import CLIPS, FUZZ, audio_bytes, json_values, texts
from hypothesis import event, given
from hypothesis import strategies as st

from audiorouter.config import ImportConfig
from audiorouter.data.importers import NothingValidError, import_mmau
from audiorouter.data.items import iter_items, read_rejects

KEYS = ("id", "audio_id", "question", "choices", "answer", "dataset", "task", "split", "category",
        "sub-category", "difficulty")
GOOD_AUDIO = "./good.wav"  # CLIPS[0], written into every audio root


@st.composite
def record(draw, index: int) -> dict:
    """A valid record, then (mostly) one mutation: its audio path, a key dropped or
    given any JSON value, its choices, or an extra field nested up to 200 deep."""
    good = {"id": f"r{index}", "audio_id": GOOD_AUDIO, "question": "What is heard?", "choices": ["a tone", "speech"],
            "answer": "a tone", "dataset": "d", "task": "sound", "split": "test-mini", "category": "c",
            "sub-category": None, "difficulty": "easy"}
    mutation = draw(st.sampled_from(["none", "audio", "audio", "key", "choices", "extra"]))
    if mutation == "audio":
        good["audio_id"] = draw(st.sampled_from(["./damaged.bin", "./missing.wav", "./folder", "../outside.wav",
                                                 "/etc/passwd", "./pipe.wav", "./link-out.wav", "a\x00b"]))
    elif mutation == "key":
        key = draw(st.sampled_from(KEYS))
        if draw(st.booleans()):
            good.pop(key)
        else:
            good[key] = draw(json_values)
    elif mutation == "choices":
        good["choices"] = draw(st.lists(texts, max_size=4))
        good["answer"] = good["choices"][0] if good["choices"] and draw(st.booleans()) else draw(texts)
    elif mutation == "extra":
        depth = draw(st.integers(1, 200))
        good["extra"] = json.loads("[" * depth + "]" * depth)
    return good


@st.composite
def benchmark_file(draw) -> tuple[list[dict], str, bytes]:
    records = [draw(record(i)) for i in range(draw(st.integers(1, 6)))]
    return records, draw(st.sampled_from(["json", "jsonl"])), draw(audio_bytes)


def audio_root(folder: Path, damaged: bytes) -> Path:
    root = folder / "audio"
    (root / "folder").mkdir(parents=True)
    (root / "good.wav").write_bytes(CLIPS[0])
    (root / "damaged.bin").write_bytes(damaged)
    (folder / "outside.wav").write_bytes(CLIPS[0])
    os.symlink(folder / "outside.wav", root / "link-out.wav")
    os.mkfifo(root / "pipe.wav")
    return root


@FUZZ
@given(benchmark_file())
def test_every_record_is_imported_or_rejected_with_a_reason(generated):
    records, fmt, damaged = generated
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        root = audio_root(folder, damaged)
        path = folder / f"records.{fmt}"
        text = json.dumps(records) if fmt == "json" else "\n".join(json.dumps(r) for r in records)
        path.write_text(text)
        tracemalloc.start()
        try:
            report = import_mmau(path, root, folder / "out", ImportConfig(max_duration_s=30.0))
        except NothingValidError:
            rejects = read_rejects(folder / "out")
            assert len(rejects) == len(records) and all(r["reason"] for r in rejects)
            event("nothing valid")
            return
        finally:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            assert peak < 64 * 2**20, peak  # 30 s windows of a few small clips: far below
        rejects = read_rejects(folder / "out")
        assert report.imported + report.rejected == len(records) and len(rejects) == report.rejected
        assert all(isinstance(r["reason"], str) and r["reason"] for r in rejects)
        assert len(list(iter_items(folder / "out", "test"))) == report.imported
        event(f"imported {report.imported} of {len(records)}")


def test_the_fuzzer_reaches_both_outcomes():
    """Not vacuous: a good record imports, and a hostile one is a reject."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        root = audio_root(folder, b"junk")
        good = {"id": "g", "audio_id": GOOD_AUDIO, "question": "q?", "choices": ["a", "b"], "answer": "a",
                "dataset": "d", "task": "sound", "split": "s", "category": "c", "sub-category": None, "difficulty": "easy"}
        bad = {**good, "id": "p", "audio_id": "./pipe.wav"}
        (folder / "r.json").write_text(json.dumps([good, bad]))
        report = import_mmau(folder / "r.json", root, folder / "out", ImportConfig())
        assert (report.imported, report.rejected) == (1, 1)
        assert "named pipe" in read_rejects(folder / "out")[0]["reason"]

