"""Every entry point that reads audio from outside decodes it with the one bounded
reader (``data.audio_io.read_clip``): ``tools analyse``, the server's upload check, the
importers and the batch pipeline's stages (tools, route, reason). On the same crafted
files -- two hours of FLAC silence (363 KB), a FLAC whose header claims two hours over
one second of data, a short stereo 44.1 kHz clip -- each says the same length, cut and
analysed window, and none holds more than a few windows' worth of memory while it reads
the two hours (traced allocations; decoding the whole file holds 460 MB of float32)."""

from __future__ import annotations

import json
import math
import re
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from audio_helpers import SR, encoded, noise, silence_flac, stating_length
from serving.support import tiny_policy

from audiorouter.cli.main import main
from audiorouter.config import ToolsConfig
from audiorouter.contracts import AudioQAItem
from audiorouter.data.audio_io import decode_audio
from audiorouter.data.items import iter_items, read_rejects
from audiorouter.inference.workers import RouteWorker, item_clip
from audiorouter.serving.app import check_upload
from audiorouter.serving.client import encode_multipart
from audiorouter.tool_execution.item_evidence import ItemEvidence
from audiorouter.tool_execution.runner import ToolRunner

WINDOW_S = 30.0  # tools.max_duration_s, the server's window, the importers' limit
TOOL = "loudness"
TWO_HOURS = 2 * 3600
MEMORY_BOUND_MB = 24.0  # the window is 1.9 MB of float32 at 16 kHz, one decoded block 4 MB
TOOLS_CONFIG = ToolsConfig(max_duration_s=WINDOW_S, cache_dir="")

# what every entry point must say of each file: its length, whether it holds more than
# the window, the 16 kHz samples analysed (an importer refuses a longer file: None)
EXPECTED = {
    "silence_2h": {"duration_s": 7200.0, "truncated": True, "window": int(WINDOW_S * SR)},
    "header_claims_2h": {"duration_s": 1.0, "truncated": False, "window": SR},
    "short_stereo_44k": {"duration_s": 1.5, "truncated": False, "window": int(1.5 * SR)},
}
WARM_UP = "short_stereo_44k"  # read once untraced first: imports and first loads are not the decode


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("audio")
    one_second = encoded(noise(SR, 1.0, 1)[:, 0], SR, "FLAC", "PCM_16")
    made = {"silence_2h": silence_flac(TWO_HOURS),
            "header_claims_2h": stating_length(one_second, TWO_HOURS * SR),
            "short_stereo_44k": encoded(noise(44_100, 1.5, 2), 44_100, "FLAC", "PCM_16")}
    for name, data in made.items():
        (root / f"{name}.flac").write_bytes(data)
    return {name: root / f"{name}.flac" for name in made}


@pytest.fixture(scope="module")
def runner():
    """One tool process for the module (each start imports the tools for seconds)."""
    shared = ToolRunner.from_config(TOOLS_CONFIG)
    yield shared
    shared.close()


@pytest.fixture
def entry_points(runner, monkeypatch, capsys, tmp_path) -> dict[str, Callable[[Path], dict[str, Any]]]:
    """name -> what that entry point says of a file (the keys of EXPECTED it can see)."""

    def the_shared_runner(cls, config):  # what `tools analyse` and the tools stage build
        assert config.max_duration_s == WINDOW_S
        return runner

    monkeypatch.setattr(ToolRunner, "from_config", classmethod(the_shared_runner))
    policy = tiny_policy(tmp_path / "policy")

    def serve(path: Path) -> dict[str, Any]:
        body, content_type = encode_multipart({"question": "How loud?", "choices": json.dumps(["soft", "loud"])},
                                              {"audio": (path.name, path.read_bytes())})
        checked = check_upload(body, content_type, WINDOW_S)
        return {"duration_s": checked.duration_s, "truncated": checked.truncated, "window": checked.waveform.size}

    def analyse(path: Path) -> dict[str, Any]:
        code = main(["--set", f"tools.max_duration_s={WINDOW_S:g}", "tools", "analyse", str(path),
                     "--tools", TOOL, "--json"])
        printed = capsys.readouterr().out.splitlines()
        assert code == 0, printed
        return tool_says(json.loads(printed[-1]))

    def tools_stage(path: Path) -> dict[str, Any]:  # `tools run` and `infer tools`
        [(result, _)] = ItemEvidence(TOOLS_CONFIG, path.parent).results(path.stem, None, path.name, [TOOL])
        return tool_says(vars(result))

    def reason_stage(path: Path) -> dict[str, Any]:  # what the reason and route workers read
        clip = item_clip(item_at(path), str(path.parent), WINDOW_S)
        return {"duration_s": clip.duration_s, "truncated": clip.truncated, "window": clip.waveform.size}

    def route_stage(path: Path) -> dict[str, Any]:
        cache = tmp_path / f"features-{path.stem}"
        [decision] = RouteWorker(str(policy), str(cache), str(path.parent), WINDOW_S).rows_for([item_at(path)])[path.stem]
        assert math.isfinite(decision["log_prob"]), "routed, not left out as a bad clip"
        [entry] = cache.rglob("*.npz")
        with np.load(entry) as record:  # the last log-mel statistic: log(1 + seconds heard)
            return {"window": round(math.expm1(float(record["stats"][-1])) * SR)}

    def importer(path: Path) -> dict[str, Any]:
        out = tmp_path / f"imported-{path.stem}"
        main(["data", "import", "mmar", "--json", str(mmar_records(path, tmp_path)), "--audio-root", str(path.parent),
              "--out", str(out), "--max-duration", f"{WINDOW_S:g}"])
        capsys.readouterr()
        if rejects := read_rejects(out):
            refused = re.search(r"duration ([\d.]+) s exceeds the limit of", rejects[0]["reason"])
            assert refused, rejects
            return {"duration_s": float(refused[1]), "truncated": True, "window": None}
        [item] = iter_items(out, "test")
        return {"duration_s": item.duration_s, "truncated": False, "window": decode_audio(item.audio)[0].size}

    return {"serve": serve, "analyse": analyse, "tools_stage": tools_stage, "reason_stage": reason_stage,
            "route_stage": route_stage, "import": importer}


def tool_says(result: dict[str, Any]) -> dict[str, Any]:
    """A tool result's account of its input (``data["input"]``)."""
    assert result["ok"], result["error"]
    seen = result["data"]["input"]
    truncated = "truncated_from_s" in seen
    return {"duration_s": seen["truncated_from_s"] if truncated else seen["duration_s"], "truncated": truncated,
            "window": round(seen["duration_s"] * SR)}


def item_at(path: Path) -> AudioQAItem:
    return AudioQAItem(id=path.stem, question="How loud?", choices=["soft", "loud"], answer="loud", task="loudness",
                       category="sound", sub_category="level", difficulty="easy", source="test", audio_path=path.name)


def mmar_records(path: Path, folder: Path) -> Path:
    record = {"id": path.stem, "audio_path": f"./{path.name}", "question": "How loud?", "choices": ["soft", "loud"],
              "answer": "loud", "modality": "sound", "category": "Signal Layer", "sub-category": "Loudness",
              "language": None, "thinking": "", "cue": [], "rubric": []}
    records = folder / f"{path.stem}.jsonl"
    records.write_text(json.dumps(record) + "\n")
    return records


def traced(read: Callable[[], dict[str, Any]]) -> tuple[dict[str, Any], float]:
    """What ``read`` returns and the most memory it allocated at once (MB)."""
    tracemalloc.start()
    try:
        return read(), tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("entry", ["serve", "analyse", "import", "tools_stage", "route_stage", "reason_stage"])
def test_every_entry_point_reads_the_same_window_in_bounded_memory(entry, entry_points, files):
    read = entry_points[entry]
    read(files[WARM_UP])
    for name, path in files.items():
        seen, peak_mb = traced(lambda path=path: read(path))
        expected = dict(EXPECTED[name])
        if entry == "import" and expected["truncated"]:
            expected["window"] = None  # refused (data.imports.max_duration_s), naming the length
        assert seen == {key: expected[key] for key in seen}, name
        assert peak_mb < MEMORY_BOUND_MB, f"{entry} on {name}: {peak_mb:.0f} MB"
