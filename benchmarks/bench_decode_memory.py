"""Peak memory of decoding an upload, an imported file or a file given to ``tools
analyse``, as JSON: the shipped path (``read_clip``: the analysed window only, in
bounded blocks) against the naive one it replaced (decode the whole file, then cut and
resample), side by side.

Serve and import: each measurement runs in a fresh process: the peak RSS (VmHWM) minus
the RSS just before the call, with the input already in memory (the server holds the
upload it read). ``tools analyse`` (one cheap tool, ``--tool``): the whole command in a
fresh process, its peak RSS and that of its tool process (the larger of the two, from
``wait4``) and its wall time, against the code it replaced (``decode_audio`` of the
whole file, then the tools). Cases: two hours of silence as a 16 kHz FLAC (363 KB), the
largest upload the server allows (16 MiB) of FLAC silence, tens of hours, a FLAC whose
header claims two hours over one second of data, and a short 3 s clip. The naive path
is skipped, with the memory it would need from the header, where that is over
``--naive-limit-gb``.

    python benchmarks/bench_decode_memory.py [--upload-mib 16] [--window-s 120] [--tool loudness]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import soundfile as sf

from audiorouter.contracts import SAMPLE_RATE

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from audio_helpers import encoded, noise, stating_length  # noqa: E402  (the tests' crafted files)

MINUTE = SAMPLE_RATE * 60


def silence_flac(path: Path, max_bytes: int | None = None, hours: float | None = None) -> int:
    """Write a 16 kHz mono FLAC of silence, a minute at a time, until ``hours`` or until
    the next minute could pass ``max_bytes``; returns its frames."""
    minutes = 0
    with sf.SoundFile(path, "w", SAMPLE_RATE, 1, format="FLAC", subtype="PCM_16") as out:
        zeros = np.zeros(MINUTE, np.int16)
        while True:
            if hours is not None and minutes >= hours * 60:
                break
            if max_bytes is not None and minutes and path.stat().st_size * (minutes + 2) / minutes > max_bytes:
                break
            out.write(zeros)
            minutes += 1
            out.flush()
    return minutes * MINUTE


def status_mb(key: str) -> float:
    line = next(line for line in open("/proc/self/status") if line.startswith(key + ":"))
    return int(line.split()[1]) / 1024


def child(mode: str, path: str, window_s: float, tool: str) -> dict:
    """One measurement, in this (fresh) process."""
    if mode.startswith("analyse"):
        return analyse(mode, path, window_s, tool)
    from audiorouter.data.audio_io import decode_audio, read_clip, to_mono_16k
    from audiorouter.data.importers.common import load_clip
    from audiorouter.serving.app import check_upload
    from audiorouter.serving.client import encode_multipart

    data = Path(path).read_bytes()
    body, content_type = encode_multipart({"question": "How many notes?", "choices": '["1", "2"]'},
                                          {"audio": ("clip.flac", data)})
    read_clip(sf_tiny(), 1.0)  # imports and first-call allocations before the baseline
    before = status_mb("VmRSS")
    started = time.perf_counter()
    try:
        if mode == "serve":
            samples = check_upload(body, content_type, window_s).waveform.size
        elif mode == "serve_naive":  # the code this replaced: decode all, cut, resample
            waveform, rate = decode_audio(data)
            samples = to_mono_16k(waveform[: int(window_s * rate)], rate).size
        elif mode == "import":  # data.imports.max_duration_s (600 s): a longer file is refused
            samples = load_clip(Path(path), 600.0).size
        else:  # import_naive
            waveform, rate = decode_audio(data)
            samples = f"refused: {waveform.size / rate:.0f} s" if waveform.size / rate > 600 else waveform.size
    except ValueError as exc:  # AudioError, or the server's BadRequest
        samples = f"refused: {exc}"
    return {"peak_above_baseline_mb": round(status_mb("VmHWM") - before, 1),
            "seconds": round(time.perf_counter() - started, 2), "result_samples": samples}


def analyse(mode: str, path: str, window_s: float, tool: str) -> dict:
    """``tools analyse PATH --tools TOOL --json`` in this process ("analyse"), or the code
    it replaced ("analyse_naive": decode the whole file, then run the tools); what the
    tool's result says of its input, or the error."""
    from audiorouter.cli.main import main
    from audiorouter.config import load_config
    from audiorouter.data.audio_io import AudioError, decode_audio
    from audiorouter.tool_execution.runner import ToolRunner

    overrides = ["tools.cache_dir=", f"tools.max_duration_s={window_s:g}"]
    started = time.perf_counter()
    printed, errors = io.StringIO(), io.StringIO()
    if mode == "analyse":
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(errors):
            main([arg for o in overrides for arg in ("--set", o)] + ["tools", "analyse", path, "--tools", tool, "--json"])
        results = [json.loads(line) for line in printed.getvalue().splitlines()]
    else:
        try:
            waveform, rate = decode_audio(path)
        except AudioError as exc:
            print(f"error: {exc}", file=errors)
            results = []
        else:
            runner = ToolRunner.from_config(load_config(None, overrides).tools)
            results = [asdict(r) for r in runner.run(waveform, rate, [tool])]
            runner.close()  # waits for the tool process: its peak RSS counts in this one's rusage
    seconds = round(time.perf_counter() - started, 2)
    if not results:
        return {"seconds": seconds, "error": errors.getvalue().strip().splitlines()[-1]}
    said = results[0]["data"].get("input", {}) if results[0]["ok"] else {"error": results[0]["error"]}
    return {"seconds": seconds, "tool_input": said}


def sf_tiny() -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, np.zeros(SAMPLE_RATE // 10, np.float32), SAMPLE_RATE, format="FLAC")
    return buffer.getvalue()


def measure(mode: str, path: Path, window_s: float, tool: str) -> dict:
    """One measurement in a fresh process, reaped by ``wait4``: its rusage holds the
    peak RSS of the process and of the tool process it waited for."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, __file__, "--child", mode, str(path), "--window-s", str(window_s),
                                 "--tool", tool], stdout=subprocess.PIPE, stderr=err, text=True)
        out = proc.stdout.read()
        proc.stdout.close()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        errors = err.read().strip()
    if proc.returncode != 0:
        return {"error": errors.splitlines()[-1] if errors else f"rc {proc.returncode}"}
    measured = json.loads(out)
    if mode.startswith("analyse"):
        measured["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)  # its largest process: the CLI or the tool's
        measured["wall_s"] = round(time.perf_counter() - started, 2)  # the whole command, Python's start included
    return measured


def write_cases(folder: Path, upload_mib: float) -> dict[str, int]:
    """The crafted files: name -> the frames its header states."""
    frames = {"two_hours_of_silence_flac": silence_flac(folder / "two_hours_of_silence_flac.flac", hours=2.0),
              "largest_upload_of_silence_flac": silence_flac(folder / "largest_upload_of_silence_flac.flac",
                                                            max_bytes=int(upload_mib * (1 << 20)))}
    one_second = encoded(noise(SAMPLE_RATE, 1.0, 1)[:, 0], SAMPLE_RATE, "FLAC", "PCM_16")
    (folder / "header_claims_2h_holds_1s_flac.flac").write_bytes(stating_length(one_second, 2 * 3600 * SAMPLE_RATE))
    frames["header_claims_2h_holds_1s_flac"] = 2 * 3600 * SAMPLE_RATE
    (folder / "short_3s_flac.flac").write_bytes(encoded(noise(SAMPLE_RATE, 3.0, 1)[:, 0], SAMPLE_RATE, "FLAC",
                                                        "PCM_16"))
    frames["short_3s_flac"] = 3 * SAMPLE_RATE
    return frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upload-mib", type=float, default=16.0, help="the server's max_upload_bytes, MiB")
    parser.add_argument("--window-s", type=float, default=120.0, help="tools.max_duration_s")
    parser.add_argument("--naive-limit-gb", type=float, default=4.0)
    parser.add_argument("--tool", default="loudness", help="the tool `tools analyse` runs (a cheap one)")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1], args.window_s, args.tool)))
        return
    cases = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, frames in write_cases(Path(tmp), args.upload_mib).items():
            path = Path(tmp) / f"{name}.flac"
            naive_gb = frames * 4 / 1e9  # float32 mono, before the copies of cutting and resampling
            case = {"file_bytes": path.stat().st_size, "header_hours": round(frames / SAMPLE_RATE / 3600, 3),
                    "decoded_float32_gb": round(naive_gb, 2)}
            for mode in ("serve", "import", "analyse"):
                case[mode] = measure(mode, path, args.window_s, args.tool)
                case[f"{mode}_naive"] = (measure(f"{mode}_naive", path, args.window_s, args.tool)
                                         if naive_gb <= args.naive_limit_gb
                                         else f"not run: would hold at least {naive_gb:.1f} GB")
            cases[name] = case
    window_mb = args.window_s * SAMPLE_RATE * 4 / 2**20
    print(json.dumps({
        "benchmark": "decode_memory",
        "machine": {"cpus": os.cpu_count()},
        "window_s": args.window_s,
        "bound": {"window_float32_mb": round(window_mb, 1), "block_mb": 4.0,
                  "note": "serve also holds the upload (at most max_upload_bytes) while parsing it; "
                          "analyse's peak_rss_mb is a whole process (imports, models) and wall_s the command"},
        "analyse_tool": args.tool,
        "cases": cases,
    }, indent=2))


if __name__ == "__main__":
    main()
