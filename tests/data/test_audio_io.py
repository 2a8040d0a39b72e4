"""Decoding (a precise message for each kind of bad path) and resampling (quality, and
memory in proportion to the clip whatever its rate)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audiorouter.data.audio_io import AudioError, decode_audio, to_mono_16k

SR = 16_000


def tone(rate: int, seconds: float = 1.0, freq: float = 1000.0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(round(rate * seconds))) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


# ------------------------------------------------------------------- decode_audio


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    path = tmp_path / "clip.wav"
    sf.write(path, tone(SR, 0.1), SR)
    return path


def test_a_file_and_a_symlink_to_it_decode(tmp_path, clip):
    os.symlink(clip, tmp_path / "link.wav")
    for path in (clip, tmp_path / "link.wav", str(clip)):
        waveform, rate = decode_audio(path)
        assert rate == SR and waveform.shape == (1600,)


def bad_paths(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """name -> (path, the message it must get)."""
    os.mkdir(tmp_path / "folder")
    os.symlink(tmp_path / "folder", tmp_path / "folder-link")
    os.symlink(tmp_path / "gone.wav", tmp_path / "dangling.wav")
    os.symlink("/dev/null", tmp_path / "device.wav")
    os.mkfifo(tmp_path / "pipe.wav")
    (tmp_path / "empty.wav").write_bytes(b"")
    return {
        "missing": (tmp_path / "nowhere.wav", "audio file not found: "),
        "directory": (tmp_path / "folder", "audio path is a directory: "),
        "symlink-to-directory": (tmp_path / "folder-link", "audio path is a directory: "),
        "broken-symlink": (tmp_path / "dangling.wav", f"audio path is a broken symlink: {tmp_path / 'dangling.wav'} -> "),
        "char-device": (tmp_path / "device.wav",
                        "audio path is not a regular file (a character device) (via a symlink): "),
        "named-pipe": (tmp_path / "pipe.wav", "audio path is not a regular file (a named pipe): "),
        "empty": (tmp_path / "empty.wav", "audio file is empty (0 bytes): "),
        "under-a-file": (tmp_path / "empty.wav" / "x.wav", "audio path cannot be read: "),
    }


@pytest.mark.parametrize("kind", ["missing", "directory", "symlink-to-directory", "broken-symlink", "char-device",
                                  "named-pipe", "empty", "under-a-file"])
def test_each_bad_path_gets_its_own_message(tmp_path, kind):
    path, message = bad_paths(tmp_path)[kind]
    with pytest.raises(AudioError) as caught:
        decode_audio(path)  # never opens a device or a pipe (a pipe would block)
    assert message in str(caught.value) and str(path) in str(caught.value)


def test_bad_bytes_are_named():
    with pytest.raises(AudioError, match="audio bytes are empty"):
        decode_audio(b"")
    with pytest.raises(AudioError, match="unreadable audio"):
        decode_audio(b"not audio" * 20)


# --------------------------------------------------------------------- resampling


def dominant(waveform: np.ndarray, rate: int) -> tuple[float, float]:
    """(frequency of the strongest bin, its sine amplitude), Hann-windowed."""
    window = np.hanning(waveform.size)
    spectrum = np.abs(np.fft.rfft(waveform * window))
    peak = int(np.argmax(spectrum))
    return float(np.fft.rfftfreq(waveform.size, 1 / rate)[peak]), float(2 * spectrum[peak] / window.sum())


@pytest.mark.parametrize("rate", [8001, 22050, 44100, 44101, 48000, 16000])
def test_a_1khz_tone_keeps_its_frequency_amplitude_and_length(rate):
    out = to_mono_16k(tone(rate), rate)
    assert out.dtype == np.float32 and abs(out.size - SR) <= 1
    freq, amplitude = dominant(out, SR)
    assert freq == pytest.approx(1000.0, abs=2.0)
    assert amplitude == pytest.approx(0.5, rel=0.02)
    middle = out[SR // 10: -SR // 10]  # no delay: the samples line up with a 16 kHz tone
    assert np.max(np.abs(middle - tone(SR)[SR // 10: -SR // 10])) < 0.01


def test_stereo_is_averaged_and_content_above_8khz_is_removed():
    stereo = np.stack([tone(44_100), tone(44_100, freq=12_000.0)])  # (channels, n)
    out = to_mono_16k(stereo, 44_100)
    freq, amplitude = dominant(out, SR)
    assert freq == pytest.approx(1000.0, abs=2.0) and amplitude == pytest.approx(0.25, rel=0.02)
    assert np.sqrt(np.mean((out - 0.5 * tone(SR)[: out.size]) ** 2)) < 0.01  # the 12 kHz tone is gone


MEMORY_CHILD = r"""
import json, sys
import numpy as np
from audiorouter.data.audio_io import to_mono_16k

def status_mb(key):  # VmRSS: now; VmHWM: the peak of this process (ru_maxrss can carry the parent's)
    line = next(l for l in open("/proc/self/status") if l.startswith(key + ":"))
    return int(line.split()[1]) / 1024

rate, seconds = int(sys.argv[1]), float(sys.argv[2])
wave = (0.5 * np.sin(2 * np.pi * 1000 * np.arange(int(rate * seconds)) / rate)).astype(np.float32)
before = status_mb("VmRSS")
out = to_mono_16k(wave, rate)
print(json.dumps({"increase_mb": status_mb("VmHWM") - before, "n": int(out.size)}))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the peak RSS from /proc")
@pytest.mark.parametrize("rate, seconds", [(8001, 1.0), (44101, 20.0)])
def test_resampling_memory_grows_with_the_clip_not_with_the_rate(rate, seconds):
    """In a fresh process: peak RSS minus RSS just before. torchaudio's sinc kernel took
    about 2 GB at 8001 Hz and 11 GB at 44101 Hz for any clip; soxr takes a few MB."""
    done = subprocess.run([sys.executable, "-c", MEMORY_CHILD, str(rate), str(seconds)],
                          capture_output=True, text=True, timeout=120, check=True)
    measured = json.loads(done.stdout)
    assert abs(measured["n"] - SR * seconds) <= 1
    bound_mb = 50.0 + 5.0 * seconds  # input + output are under 0.3 MB per second of audio
    assert measured["increase_mb"] < bound_mb, measured
