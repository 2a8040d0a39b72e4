"""Peak memory of decoding an upload or an imported file, as JSON: the shipped path
(``read_clip``: the analysed window only, in bounded blocks) against the naive one it
replaced (decode the whole file, then cut and resample), side by side.

Each measurement runs in a fresh process: the peak RSS (VmHWM) minus the RSS just
before the call, with the input already in memory (the server holds the upload it
read). Cases: two hours of silence as a 16 kHz FLAC (363 KB), and the largest upload
the server allows (16 MiB) of FLAC silence, tens of hours. The naive path is skipped,
with the memory it would need from the header, where that is over ``--naive-limit-gb``.

    python benchmarks/bench_decode_memory.py [--upload-mib 16] [--window-s 120]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from audiorouter.contracts import SAMPLE_RATE

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


def multipart(audio: bytes) -> tuple[bytes, str]:
    boundary = "benchboundary"
    parts = [(b'name="question"', b"How many notes?"), (b'name="choices"', b'["1", "2"]'),
             (b'name="audio"; filename="clip.flac"', audio)]
    body = b"".join(b"--" + boundary.encode() + b"\r\nContent-Disposition: form-data; " + head + b"\r\n\r\n"
                    + content + b"\r\n" for head, content in parts) + b"--" + boundary.encode() + b"--\r\n"
    return body, f"multipart/form-data; boundary={boundary}"


def status_mb(key: str) -> float:
    line = next(line for line in open("/proc/self/status") if line.startswith(key + ":"))
    return int(line.split()[1]) / 1024


def child(mode: str, path: str, window_s: float) -> dict:
    """One measurement, in this (fresh) process."""
    from audiorouter.data.audio_io import decode_audio, read_clip, to_mono_16k
    from audiorouter.data.importers.common import load_clip
    from audiorouter.serving.app import check_upload

    data = Path(path).read_bytes()
    body, content_type = multipart(data)
    read_clip(sf_tiny(), 1.0)  # imports and first-call allocations before the baseline
    before = status_mb("VmRSS")
    started = time.perf_counter()
    if mode == "serve":
        samples = check_upload(body, content_type, window_s).waveform.size
    elif mode == "serve_naive":  # the code this replaced: decode all, cut, resample
        waveform, rate = decode_audio(data)
        samples = to_mono_16k(waveform[: int(window_s * rate)], rate).size
    elif mode == "import":  # data.imports.max_duration_s (600 s): a longer file is refused
        try:
            samples = load_clip(Path(path), 600.0).size
        except ValueError as exc:
            samples = f"refused: {exc}"
    else:  # import_naive
        waveform, rate = decode_audio(data)
        samples = f"refused: {waveform.size / rate:.0f} s" if waveform.size / rate > 600 else waveform.size
    return {"peak_above_baseline_mb": round(status_mb("VmHWM") - before, 1),
            "seconds": round(time.perf_counter() - started, 2), "result_samples": samples}


def sf_tiny() -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, np.zeros(SAMPLE_RATE // 10, np.float32), SAMPLE_RATE, format="FLAC")
    return buffer.getvalue()


def measure(mode: str, path: Path, window_s: float) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", mode, str(path), "--window-s", str(window_s)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"rc {done.returncode}"}
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upload-mib", type=float, default=16.0, help="the server's max_upload_bytes, MiB")
    parser.add_argument("--window-s", type=float, default=120.0, help="tools.max_duration_s")
    parser.add_argument("--naive-limit-gb", type=float, default=4.0)
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1], args.window_s)))
        return
    cases = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, kwargs in {"two_hours_of_silence_flac": {"hours": 2.0},
                             "largest_upload_of_silence_flac": {"max_bytes": int(args.upload_mib * (1 << 20))}}.items():
            path = Path(tmp) / f"{name}.flac"
            frames = silence_flac(path, **kwargs)
            naive_gb = frames * 4 / 1e9  # float32 mono, before the copies of cutting and resampling
            case = {"file_bytes": path.stat().st_size, "hours": round(frames / SAMPLE_RATE / 3600, 2),
                    "decoded_float32_gb": round(naive_gb, 2)}
            for mode in ("serve", "import"):
                case[mode] = measure(mode, path, args.window_s)
                case[f"{mode}_naive"] = (measure(f"{mode}_naive", path, args.window_s) if naive_gb <= args.naive_limit_gb
                                         else f"not run: would hold at least {naive_gb:.1f} GB")
            cases[name] = case
    window_mb = args.window_s * SAMPLE_RATE * 4 / 2**20
    print(json.dumps({
        "benchmark": "decode_memory",
        "machine": {"cpus": os.cpu_count()},
        "window_s": args.window_s,
        "bound": {"window_float32_mb": round(window_mb, 1), "block_mb": 4.0,
                  "note": "serve also holds the upload (at most max_upload_bytes) while parsing it"},
        "cases": cases,
    }, indent=2))


if __name__ == "__main__":
    main()
